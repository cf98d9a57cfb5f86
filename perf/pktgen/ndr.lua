-- The no-drop rate of sgate, RFC 2544 style, with Pktgen-DPDK
-- (perf/pktgen/README.md).
--
--   pktgen port 0 ── sgate inside port   (the server, 198.51.100.10)
--   pktgen port 1 ── sgate outside port  (clients 203.0.113.1-3)
--
-- Both ports send at the same rate, as in fixed-rate.lua: clients to the
-- server's UDP port 5000 from source ports 10000-18191, and the server's
-- answers back (perf/pktgen/policy.yaml). A trial passes when no frame is
-- lost in either direction. The script binary-searches the rate between
-- 0% and MAX_RATE_PCT until the bounds are PRECISION_PCT apart, then
-- confirms the best passing rate with a longer run (RFC 2544 §26.1 asks
-- for at least 60 s); if the confirm run loses frames it steps down by
-- PRECISION_PCT and confirms again. The result is printed in Mpps and in
-- % of line rate.

-- pktgen itself defines the global `pktgen`; Pktgen.lua (the helpers at the
-- top of Pktgen-DPDK's tree) is loaded when found but not needed.
package.path = package.path .. ";?.lua;test/?.lua;app/?.lua;../?.lua"
pcall(require, "Pktgen")

-- What to run: change these.
local FRAME_SIZE       = 64    -- bytes on the wire, FCS included (64-1518)
local TRIAL_SECONDS    = 10    -- each search trial
local CONFIRM_SECONDS  = 60    -- the confirm run at the rate found
local MAX_RATE_PCT     = 100   -- the search's upper bound
local PRECISION_PCT    = 0.5   -- stop searching when hi - lo <= this
local CONFIRM_RETRIES  = 3     -- confirm runs before giving up
local LOSS_ALLOWED     = 0     -- frames a trial may lose (0: RFC 2544)
local WARMUP_SECONDS   = 3     -- at WARMUP_RATE_PCT before the search, so
local WARMUP_RATE_PCT  = 5     -- every flow exists (0 s: measure set-up too)
local PAUSE_MS         = 2000  -- between trials: frames in flight drain
local BIDIRECTIONAL    = true  -- false: only the clients (port 1) send
local LINK_MBPS        = nil   -- nil: the link speed pktgen reports
local QUIT_AT_END      = false -- true: leave pktgen when done (batch runs)

-- The cabling: which pktgen port faces which sgate port.
local INSIDE  = 0              -- sgate's inside port: the server side
local OUTSIDE = 1              -- sgate's outside port: the clients

-- Destination MACs: sgate ignores them (bump in the wire); nil keeps
-- pktgen's own and relies on promiscuous receive ports (pktgen -P).
local INSIDE_DST_MAC  = nil
local OUTSIDE_DST_MAC = nil

-- The flows: they must match perf/pktgen/policy.yaml. Pktgen's range mode
-- builds its frames once per start, one per mbuf of the port's range pool
-- (MAX_MBUFS_PER_PORT: 24,576 in Pktgen 23.03), and then sends that pool
-- round and round: a run sends at most that many distinct frames, and a
-- range wider than the pool is never covered (251 addresses x 1,000 ports
-- once made 24,576 flows, not 251,000). So the range is exactly the pool:
-- 3 addresses x 8,192 source ports, coprime counts stepped once per frame,
-- meet every pair once in 24,576 frames, and every start sends the same
-- 24,576 flows. sgate's flows.created after a run is the check.
local SERVER_IP       = "198.51.100.10"
local SERVER_PORT     = 5000
local CLIENT_IP_FIRST = "203.0.113.1"
local CLIENT_IP_LAST  = "203.0.113.3"
local CLIENT_PORT_MIN = 10000
local CLIENT_PORT_MAX = 18191
local FLOWS           = 3 * 8192

local function printf(fmt, ...) print(string.format(fmt, ...)) end

-- The pool this Pktgen builds (pktgen.info.maxMbufsPerPort), against the
-- flow count the ranges above are made for.
local function check_pool()
  local pool = pktgen.info and pktgen.info.maxMbufsPerPort
  if pool ~= nil and pool ~= FLOWS then
    printf("warning: this Pktgen sends a pool of %d frames per port, not %d: "
           .. "expect %d flows, and change the ranges to match it",
           pool, FLOWS, math.min(pool, FLOWS))
  end
  printf("flows: %d, both directions (%s-%s, ports %d-%d); sgate's flows.created "
         .. "should read %d", FLOWS, CLIENT_IP_FIRST, CLIENT_IP_LAST,
         CLIENT_PORT_MIN, CLIENT_PORT_MAX, FLOWS)
end

local function range(setter, port, start, inc, min, max)
  setter(tostring(port), "start", start)
  setter(tostring(port), "inc", inc)
  setter(tostring(port), "min", min)
  setter(tostring(port), "max", max)
end

local function setup_flows(size)
  local ports = INSIDE .. "," .. OUTSIDE
  pktgen.set_type(ports, "ipv4")
  pktgen.set_proto(ports, "udp")
  pktgen.set(ports, "size", size)
  pktgen.range.ip_proto(ports, "udp")
  range(pktgen.range.pkt_size, ports, size, 0, size, size)
  range(pktgen.range.ttl, ports, 64, 0, 64, 64)

  pktgen.set_ipaddr(tostring(OUTSIDE), "src", CLIENT_IP_FIRST .. "/24")
  pktgen.set_ipaddr(tostring(OUTSIDE), "dst", SERVER_IP)
  pktgen.set(tostring(OUTSIDE), "sport", CLIENT_PORT_MIN)
  pktgen.set(tostring(OUTSIDE), "dport", SERVER_PORT)
  pktgen.set_ipaddr(tostring(INSIDE), "src", SERVER_IP .. "/24")
  pktgen.set_ipaddr(tostring(INSIDE), "dst", CLIENT_IP_FIRST)
  pktgen.set(tostring(INSIDE), "sport", SERVER_PORT)
  pktgen.set(tostring(INSIDE), "dport", CLIENT_PORT_MIN)

  range(pktgen.range.src_ip, OUTSIDE, CLIENT_IP_FIRST, "0.0.0.1",
        CLIENT_IP_FIRST, CLIENT_IP_LAST)
  range(pktgen.range.dst_ip, OUTSIDE, SERVER_IP, "0.0.0.0", SERVER_IP, SERVER_IP)
  range(pktgen.range.src_port, OUTSIDE, CLIENT_PORT_MIN, 1,
        CLIENT_PORT_MIN, CLIENT_PORT_MAX)
  range(pktgen.range.dst_port, OUTSIDE, SERVER_PORT, 0, SERVER_PORT, SERVER_PORT)

  range(pktgen.range.src_ip, INSIDE, SERVER_IP, "0.0.0.0", SERVER_IP, SERVER_IP)
  range(pktgen.range.dst_ip, INSIDE, CLIENT_IP_FIRST, "0.0.0.1",
        CLIENT_IP_FIRST, CLIENT_IP_LAST)
  range(pktgen.range.src_port, INSIDE, SERVER_PORT, 0, SERVER_PORT, SERVER_PORT)
  range(pktgen.range.dst_port, INSIDE, CLIENT_PORT_MIN, 1,
        CLIENT_PORT_MIN, CLIENT_PORT_MAX)

  if INSIDE_DST_MAC then
    pktgen.set_mac(tostring(INSIDE), "dst", INSIDE_DST_MAC)
    pktgen.range.dst_mac(tostring(INSIDE), "start", INSIDE_DST_MAC)
  end
  if OUTSIDE_DST_MAC then
    pktgen.set_mac(tostring(OUTSIDE), "dst", OUTSIDE_DST_MAC)
    pktgen.range.dst_mac(tostring(OUTSIDE), "start", OUTSIDE_DST_MAC)
  end
  pktgen.set_range(ports, "on")
end

-- Pktgen 23.x: portStats(list, "port")[pid].ipackets; later releases:
-- portStats(list)[pid].curr.ipackets (docs/LUA_API.md).
local function counters(port)
  local ok, t = pcall(pktgen.portStats, tostring(port), "port")
  if not ok or t == nil or t[port] == nil then
    t = pktgen.portStats(tostring(port))
  end
  local s = t[port]
  if s.curr ~= nil then s = s.curr end
  return { rx = s.ipackets, tx = s.opackets }
end

local function link_mbps(port)
  if LINK_MBPS then return LINK_MBPS end
  local state = pktgen.linkState(tostring(port))[port]
  local mbps = tonumber(string.match(state or "", "%d+"))
  if mbps == nil or mbps == 0 then
    error(string.format("port %d reports no link speed (%s): set LINK_MBPS",
                        port, tostring(state)))
  end
  return mbps
end

local senders = tostring(OUTSIDE)
if BIDIRECTIONAL then senders = INSIDE .. "," .. OUTSIDE end
local directions = BIDIRECTIONAL and 2 or 1

-- trial(rate, seconds): sends at rate % for seconds; returns the frames
-- lost (both directions), frames sent and received.
local function trial(rate, seconds)
  pktgen.set(senders, "rate", rate)
  pktgen.clr()
  pktgen.start(senders)
  pktgen.delay(seconds * 1000)
  pktgen.stop(senders)
  pktgen.delay(PAUSE_MS)
  local inside, outside = counters(INSIDE), counters(OUTSIDE)
  local tx, rx = outside.tx, inside.rx
  if BIDIRECTIONAL then
    tx, rx = tx + inside.tx, rx + outside.rx
  end
  return tx - rx, tx, rx
end

local function run(label, rate, seconds)
  local lost, tx, rx = trial(rate, seconds)
  local pass = lost <= LOSS_ALLOWED
  printf("%-8s %7.3f%%  %3d s  tx %13d  rx %13d  lost %11d  %s", label,
         rate, seconds, tx, rx, lost, pass and "pass" or "FAIL")
  return pass, tx
end

setup_flows(FRAME_SIZE)
check_pool()
pktgen.set(senders, "count", 0)  -- 0: send until stopped
local mbps = link_mbps(OUTSIDE)
-- 20 bytes of preamble, start delimiter and inter-frame gap per frame.
local line_pps = mbps * 1e6 / ((FRAME_SIZE + 20) * 8)
printf("sgate NDR: %d-byte frames, %d Mb/s links (%.3f Mpps per port at "
       .. "100%%), ports %s sending, %d s trials, precision %g%%",
       FRAME_SIZE, mbps, line_pps / 1e6, senders, TRIAL_SECONDS, PRECISION_PCT)

if WARMUP_SECONDS > 0 then
  run("warm-up", WARMUP_RATE_PCT, WARMUP_SECONDS)
end

-- Binary search: lo always passed (0% trivially), hi failed or is the top.
local lo, hi = 0, MAX_RATE_PCT
local top_pass, top_tx = run("trial", MAX_RATE_PCT, TRIAL_SECONDS)
if top_pass then
  lo = MAX_RATE_PCT
else
  -- The generator may not reach the rate asked for: then the search
  -- measures pktgen, not sgate. Say so.
  local asked = line_pps * MAX_RATE_PCT / 100 * TRIAL_SECONDS * directions
  if top_tx < 0.98 * asked then
    printf("note: pktgen sent %.1f%% of the frames asked for at %g%%; rates "
           .. "near the top are bounded by the generator", 100 * top_tx / asked,
           MAX_RATE_PCT)
  end
  while hi - lo > PRECISION_PCT do
    local mid = (lo + hi) / 2
    if run("trial", mid, TRIAL_SECONDS) then lo = mid else hi = mid end
  end
end

-- Confirm the best passing rate; step down while it does not hold.
local ndr = nil
local rate = lo
for _ = 1, CONFIRM_RETRIES do
  if rate <= 0 then break end
  local pass, tx = run("confirm", rate, CONFIRM_SECONDS)
  if pass then
    ndr = rate
    local mpps = tx / CONFIRM_SECONDS / 1e6
    printf("RESULT: no-drop rate %.3f%% of line rate = %.3f Mpps per "
           .. "direction, %.3f Mpps in all (%d direction(s), %d-byte frames, "
           .. "measured over the %d s confirm run)", ndr, mpps / directions,
           mpps, directions, FRAME_SIZE, CONFIRM_SECONDS)
    break
  end
  rate = rate - PRECISION_PCT
end
if ndr == nil then
  printf("RESULT: no zero-loss rate confirmed (last tried %.3f%%)", rate)
end
if QUIT_AT_END then pktgen.quit() end
