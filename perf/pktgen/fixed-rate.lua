-- A fixed-rate run through sgate with Pktgen-DPDK (perf/pktgen/README.md).
--
--   pktgen port 0 ── sgate inside port   (the server, 198.51.100.10)
--   pktgen port 1 ── sgate outside port  (clients 203.0.113.1-3)
--
-- Port 1 sends UDP from the clients (source ports 10000-18191) to the
-- server's port 5000; port 0 sends the server's answers back to the same
-- client addresses and ports. Both directions run at the same rate; at the
-- end the script prints tx, rx and loss per direction. The policy is
-- perf/pktgen/policy.yaml.
--
-- Load it at start-up (pktgen ... -- ... -f perf/pktgen/fixed-rate.lua) or
-- from the pktgen prompt (load perf/pktgen/fixed-rate.lua).

-- pktgen itself defines the global `pktgen`; Pktgen.lua (the helpers at the
-- top of Pktgen-DPDK's tree) is loaded when found but not needed.
package.path = package.path .. ";?.lua;test/?.lua;app/?.lua;../?.lua"
pcall(require, "Pktgen")

-- What to run: change these.
local RATE_PCT      = 10     -- % of line rate, on each sending port
local SECONDS       = 10     -- how long both ports send
local FRAME_SIZE    = 64     -- bytes on the wire, FCS included (64-1518)
local BIDIRECTIONAL = true   -- false: only the clients (port 1) send
local LINK_MBPS     = nil    -- nil: the link speed pktgen reports; set it
                             -- for virtual ports whose speed means nothing
local SETTLE_MS     = 1000   -- after stopping, for frames still in flight
local QUIT_AT_END   = false  -- true: leave pktgen when done (batch runs)

-- The cabling: which pktgen port faces which sgate port.
local INSIDE  = 0            -- sgate's inside port: the server side
local OUTSIDE = 1            -- sgate's outside port: the clients

-- Destination MACs. sgate is a bump in the wire and does not look at them;
-- nil keeps pktgen's own and relies on the receiving port being
-- promiscuous (pktgen -P). Set them if something in the path filters.
local INSIDE_DST_MAC  = nil  -- frames sent by port 0
local OUTSIDE_DST_MAC = nil  -- frames sent by port 1

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

-- range(setter, port, start, inc, min, max): one pktgen.range field.
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

  -- The single-packet settings too, so pktgen's main page shows the flows.
  pktgen.set_ipaddr(tostring(OUTSIDE), "src", CLIENT_IP_FIRST .. "/24")
  pktgen.set_ipaddr(tostring(OUTSIDE), "dst", SERVER_IP)
  pktgen.set(tostring(OUTSIDE), "sport", CLIENT_PORT_MIN)
  pktgen.set(tostring(OUTSIDE), "dport", SERVER_PORT)
  pktgen.set_ipaddr(tostring(INSIDE), "src", SERVER_IP .. "/24")
  pktgen.set_ipaddr(tostring(INSIDE), "dst", CLIENT_IP_FIRST)
  pktgen.set(tostring(INSIDE), "sport", SERVER_PORT)
  pktgen.set(tostring(INSIDE), "dport", CLIENT_PORT_MIN)

  -- Clients to the server: many source addresses and ports.
  range(pktgen.range.src_ip, OUTSIDE, CLIENT_IP_FIRST, "0.0.0.1",
        CLIENT_IP_FIRST, CLIENT_IP_LAST)
  range(pktgen.range.dst_ip, OUTSIDE, SERVER_IP, "0.0.0.0", SERVER_IP, SERVER_IP)
  range(pktgen.range.src_port, OUTSIDE, CLIENT_PORT_MIN, 1,
        CLIENT_PORT_MIN, CLIENT_PORT_MAX)
  range(pktgen.range.dst_port, OUTSIDE, SERVER_PORT, 0, SERVER_PORT, SERVER_PORT)

  -- The server's answers: the same flows, reversed.
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

-- counters(port): frames received and sent since the last pktgen.clr().
-- Pktgen 23.x returns portStats(list, "port")[pid].ipackets; later
-- releases portStats(list)[pid].curr.ipackets (docs/LUA_API.md).
local function counters(port)
  local ok, t = pcall(pktgen.portStats, tostring(port), "port")
  if not ok or t == nil or t[port] == nil then
    t = pktgen.portStats(tostring(port))
  end
  local s = t[port]
  if s.curr ~= nil then s = s.curr end
  return { rx = s.ipackets, tx = s.opackets,
           missed = (s.imissed or 0) + (s.rx_nombuf or 0) }
end

-- line_pps(port, size): frames per second at 100% on that port.
local function line_pps(port, size)
  local mbps = LINK_MBPS
  if mbps == nil then
    local state = pktgen.linkState(tostring(port))[port]
    mbps = tonumber(string.match(state or "", "%d+"))
    if mbps == nil or mbps == 0 then
      error(string.format("port %d reports no link speed (%s): set LINK_MBPS",
                          port, tostring(state)))
    end
  end
  -- 20 bytes of preamble, start delimiter and inter-frame gap per frame.
  return mbps * 1e6 / ((size + 20) * 8), mbps
end

local function report(name, from, to, seconds)
  local lost = from.tx - to.rx
  local pct = 0
  if from.tx > 0 then pct = 100 * lost / from.tx end
  printf("%-22s tx %13d  rx %13d  loss %11d (%7.4f%%)  %8.3f Mpps rx",
         name, from.tx, to.rx, lost, pct, to.rx / seconds / 1e6)
end

local senders = tostring(OUTSIDE)
if BIDIRECTIONAL then senders = INSIDE .. "," .. OUTSIDE end

setup_flows(FRAME_SIZE)
check_pool()
local pps, mbps = line_pps(OUTSIDE, FRAME_SIZE)
pktgen.set(senders, "count", 0)          -- 0: send until stopped
pktgen.set(senders, "rate", RATE_PCT)
pktgen.clr()
printf("sgate fixed-rate run: %g%% of %d Mb/s (%.3f Mpps per port), %d-byte "
       .. "frames, %d s, ports %s sending", RATE_PCT, mbps,
       pps * RATE_PCT / 100 / 1e6, FRAME_SIZE, SECONDS, senders)
pktgen.start(senders)
pktgen.delay(SECONDS * 1000)
pktgen.stop(senders)
pktgen.delay(SETTLE_MS)

local inside, outside = counters(INSIDE), counters(OUTSIDE)
report(string.format("port %d -> port %d", OUTSIDE, INSIDE), outside, inside,
       SECONDS)
if BIDIRECTIONAL then
  report(string.format("port %d -> port %d", INSIDE, OUTSIDE), inside,
         outside, SECONDS)
end
if inside.missed + outside.missed > 0 then
  printf("pktgen itself missed %d frames (imissed + rx_nombuf): part of the "
         .. "loss may be the generator's", inside.missed + outside.missed)
end
if QUIT_AT_END then pktgen.quit() end
