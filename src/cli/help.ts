/** Help texts: `synack --help` and `synack <command> --help`. */

const PLAY_OPTIONS = `Options:
  --explain          after each step, one line on what it means and what each side
                     now knows (can the peer send? receive? has it finished?)
  --json             the event stream as JSON lines instead of the diagram
                     (last line: {"type":"result",...}); --payload-hex adds payload bytes
  --pcap FILE        also write the packets to FILE (pcap; pcapng if --pcapng or FILE
                     ends in .pcapng); open it with Wireshark or tshark
  --pcapng           write pcapng (one interface per host, a comment per packet)
  --capture POINT    which packets the capture keeps: send (default), deliver, both
  --absolute         raw sequence numbers instead of x, y+1, ...
  --seed N           seed of the run (ports, ISNs, random link effects)
  --ipv6             run the scenario over IPv6 (hosts fd00::a00:1 ... for 10.0.0.1 ...;
                     scenarios without fault rules, raw hosts or UDP)
  --loss P           loss probability on every path, 0..1 (changes the scenario:
                     its expectations may fail)
  --delay MS         one-way delay on every path (e.g. 10, 50ms, 1s)
  --color, --no-color  force colour on or off (default: on a terminal, unless NO_COLOR)
  -h, --help         this help`;

export const HELP: Record<string, string> = {
  main: `synack - a userspace TCP/IP stack you can watch

Usage:
  synack demo [NAME]        narrate a built-in scenario (default: tour)
  synack demo --list        list the built-in scenarios
  synack run FILE.json      run your own scenario file
  synack ss SCENARIO        the connection table of a scenario's hosts (--at TIME, -i)
  synack drill FILE|DIR...  run packetdrill scripts (Linux's TCP tests) against synack
  synack web [--open]       the playground in your browser (--port N)
  synack tun | tunnel | relay   run synack on a real TUN device or UDP tunnel (--web PORT: live view)
  synack help [COMMAND]     help for a command

Every command takes --help. Exit codes: 0 all expectations hold, 1 an expectation
failed, 2 bad usage or scenario file, 3 the simulation crashed (please report).

Try:  synack demo
      synack demo lost-syn --explain
      synack demo syn-flood --pcap flood.pcap`,

  drill: `Usage: synack drill FILE.pkt|DIR... [options]

Runs packetdrill scripts (the language of Linux's TCP regression tests) against synack,
in virtual time: the script plays the remote peer, synack is the local side. Prints one
line per script - PASS, FAIL (the line, expected and actual packet in packetdrill
syntax), UNSUPPORTED (the feature synack lacks) - then a summary per folder.

  --json               one JSON object per script: script, status, line, reason
  --verbose            the run of every script: segments and calls beside script lines
  --explain            the run of each failing script, up to the failure
  --ip-version V       packetdrill's flavour: ipv4 (default), ipv4-mapped-ipv6 (AF_INET6
                       sockets, IPv4 on the wire), ipv6, or all (each script in all three,
                       then the totals per flavour)
  --conformance FILE   also write FILE (Markdown): every script, status and cause
  --seed N             seed of synack's randomness (ISNs, ports)
  -h, --help           this help

Exit codes: 0 nothing failed, 1 a script failed, 2 bad usage or a script that does not
parse, 3 the runner or the engine crashed.

Try:  synack drill ../shared/packetdrill/tcp/close
      synack drill test/drill/failing/wrong-window.pkt --explain`,

  demo: `Usage: synack demo [NAME] [options]
       synack demo --list
       synack demo NAME --dump

Narrates a built-in scenario as a sequence diagram: one column per host, an arrow per
segment (lost ones end in X), each side's state after each step, timers and drops where
they happen, virtual time on the left. NAME defaults to "tour" (handshake, data, close).
Each scenario checks the facts it shows; the checks are listed at the end.

  --list             the built-in scenarios and the behaviours they show
  --dump             print the scenario as JSON: a starting point for your own file

${PLAY_OPTIONS}`,

  run: `Usage: synack run FILE.json [options]

Runs a scenario file: hosts, links, faults, a timed script of application calls and
expectations (see docs/cli.md for the format, or "synack demo NAME --dump" for examples).
A file that does not validate is reported with the line, column and field at fault
(exit code 2).

${PLAY_OPTIONS}`,

  ss: `Usage: synack ss SCENARIO [--at TIME] [--host NAME] [--max N] [-i]

Prints the connection table of a scenario's hosts at a moment of virtual time, like
"ss -tan -o" (or "netstat -n"): state, Recv-Q, Send-Q, local and peer address, running
timer, and for listeners the SYN queue. SCENARIO is a built-in name or a .json file.

  --at TIME          when to look: 2.5s, 300ms, 2min (default: the end of the run)
  --host NAME        only this host (default: every TCP host)
  --max N            at most N rows per state (a SYN flood has hundreds)
  -i, --info         under each connection, its TCP_INFO as "ss -i" shows it:
                     options, congestion control, wscale, rto, rtt/rttvar (ms), mss,
                     cwnd and ssthresh (segments), bytes, segments, retrans in flight/total
  --seed N, --loss P, --delay MS   as for demo
  -h, --help         this help

Example: synack ss syn-flood --at 3s | grep -c SYN_RCVD`,
};
