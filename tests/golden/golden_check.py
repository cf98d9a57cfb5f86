#!/usr/bin/env python3
"""Helpers of run_golden.sh (plain python3, struct only; no scapy).

  golden_check.py empty FILE          writes a pcap with no frames
  golden_check.py count FILE          prints the number of frames in a pcap
  golden_check.py received STDOUT     prints "received" of sgate's last JSON
                                      stats line (0 if none yet)
  golden_check.py check CASE_DIR TMP  compares TMP/out.pcap with
                                      CASE_DIR/expect.pcap frame by frame and
                                      sgate's totals (TMP/stdout) with
                                      CASE_DIR/expect.txt; prints what differs
                                      and exits 1 on any difference
"""
import json
import struct
import sys

PCAP_HEADER = struct.Struct("<IHHiIII")
RECORD = struct.Struct("<IIII")


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < PCAP_HEADER.size:
        raise ValueError(f"{path}: {len(data)} bytes, no pcap header")
    magic = struct.unpack_from("<I", data)[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        endian = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        endian = ">"
    else:
        raise ValueError(f"{path}: not a pcap file (magic {magic:#x})")
    record = struct.Struct(endian + "IIII")
    frames = []
    offset = PCAP_HEADER.size
    while offset + record.size <= len(data):
        _, _, captured, _ = record.unpack_from(data, offset)
        offset += record.size
        if offset + captured > len(data):
            raise ValueError(f"{path}: frame {len(frames) + 1} cut short")
        frames.append(data[offset:offset + captured])
        offset += captured
    return frames


def write_empty(path):
    with open(path, "wb") as f:
        f.write(PCAP_HEADER.pack(0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))


def last_stats(stdout_path):
    stats = None
    with open(stdout_path, errors="replace") as f:
        for line in f:
            line = line.strip()
            if line.startswith("{") and '"received"' in line:
                try:
                    stats = json.loads(line)
                except json.JSONDecodeError:
                    pass  # a line still being written
    return stats


def read_expectations(path):
    """[(number, verdict, reason, description)] from expect.txt."""
    rows = []
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            number, verdict, description = line.rstrip("\n").split(" ", 2)
            reason = verdict.split(":", 1)[1] if ":" in verdict else None
            rows.append((int(number), verdict.split(":")[0], reason,
                         description))
    return rows


def check(case_dir, tmp):
    problems = []
    sent = read_pcap(f"{case_dir}/in.pcap")
    expected = read_pcap(f"{case_dir}/expect.pcap")
    rows = read_expectations(f"{case_dir}/expect.txt")
    if len(rows) != len(sent):
        problems.append(f"expect.txt lists {len(rows)} frames, in.pcap has "
                        f"{len(sent)}")
    try:
        got = read_pcap(f"{tmp}/out.pcap")
    except (OSError, ValueError) as e:
        got = []
        problems.append(f"out.pcap unreadable: {e}")

    # Frame by frame, in order. Name the input frames involved.
    forwarded_rows = [r for r in rows if r[1] == "forward"]
    def describe(frame, candidates):
        for (number, _, _, description), bytes_ in candidates:
            if bytes_ == frame:
                return f"#{number} {description}"
        return "a frame not in in.pcap"
    # A frame may be sent twice (dropped, then forwarded once its flow
    # exists): name the forwarded one first.
    everything = sorted(zip(rows, sent), key=lambda rs: rs[0][1] != "forward")
    for i in range(max(len(expected), len(got))):
        want = expected[i] if i < len(expected) else None
        have = got[i] if i < len(got) else None
        if want == have:
            continue
        if have is None:
            problems.append(f"output frame {i + 1}: missing, expected "
                            f"{describe(want, everything)}")
        elif want is None:
            problems.append(f"output frame {i + 1}: unexpected "
                            f"{describe(have, everything)}")
        else:
            problems.append(f"output frame {i + 1}: expected "
                            f"{describe(want, everything)}, got "
                            f"{describe(have, everything)}")
        if len(problems) > 20:
            break
    if len(forwarded_rows) != len(expected):
        problems.append(f"expect.txt forwards {len(forwarded_rows)} frames, "
                        f"expect.pcap holds {len(expected)}")

    stats = last_stats(f"{tmp}/stdout")
    if stats is None:
        problems.append("sgate printed no totals")
    else:
        drops = stats.get("drops", {})
        received, forwarded = stats.get("received"), stats.get("forwarded")
        if received != len(sent):
            problems.append(f"received {received}, sent {len(sent)}")
        if received != forwarded + sum(drops.values()):
            problems.append(f"received {received} != forwarded {forwarded} "
                            f"+ drops {sum(drops.values())}")
        if forwarded != len(expected):
            problems.append(f"forwarded {forwarded}, expected "
                            f"{len(expected)}")
        want_drops = {}
        for _, verdict, reason, _ in rows:
            if verdict == "drop":
                want_drops[reason] = want_drops.get(reason, 0) + 1
        for reason in sorted(set(want_drops) | set(drops)):
            if drops.get(reason, 0) != want_drops.get(reason, 0):
                problems.append(f"drops.{reason}: {drops.get(reason, 0)}, "
                                f"expected {want_drops.get(reason, 0)}")
    for p in problems:
        print(f"  {p}")
    return 1 if problems else 0


def main(argv):
    if len(argv) == 3 and argv[1] == "empty":
        write_empty(argv[2])
    elif len(argv) == 3 and argv[1] == "count":
        print(len(read_pcap(argv[2])))
    elif len(argv) == 3 and argv[1] == "received":
        stats = last_stats(argv[2])
        print(stats.get("received", 0) if stats else 0)
    elif len(argv) == 4 and argv[1] == "check":
        return check(argv[2], argv[3])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
