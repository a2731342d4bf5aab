/**
 * Path MTU discovery against a real kernel router (issue 10): synack on a TUN device whose
 * kernel side (10.7.41.1) forwards to a client namespace over a veth pair with a 1,280-byte
 * MTU (10.7.42.0/24). The client announces MSS 1460 anyway (`advmss 1460` on its route), as
 * a host behind a narrower hop does, so synack's full-size segments reach the router, which
 * answers "fragmentation needed" (next-hop MTU 1280). synack must shrink its segments and
 * deliver every byte; curl's own segments to synack fit the narrow link from the start.
 */
import { createHash, randomFillSync } from "node:crypto";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpService } from "../../src/node/services/http.js";
import { parseIpAddress } from "../../src/wire/address.js";
import { envMib, interopGate, MIB, newNamespace, patternSha, removeNamespace, runIn, synackOnTun, type SynackOnTun } from "./harness.js";

const gate = interopGate();
const BULK = Math.round(envMib("SYNACK_INTEROP_MIB", 64) * MIB);
const CLIENT = "10.7.42.2";

describe.skipIf(gate.skip)("path MTU through a kernel router with a 1,280-byte link", () => {
  let s: SynackOnTun;
  let client: string | undefined;
  let tmp: string;

  beforeAll(async () => {
    if (gate.reason !== undefined) throw new Error(`SYNACK_REQUIRE_TUN=1 but the interop suite cannot run: ${gate.reason}`);
    tmp = mkdtempSync(join(tmpdir(), "synack-pmtu-"));
    s = await synackOnTun({ subnet: 41, label: "pmtu" });
    httpService(s.stack, 80);
    client = await newNamespace("pmc");
    // Both ends of the veth pair are created inside the namespaces: nothing is left in ours.
    await promisify(execFile)("ip", ["link", "add", "vr", "netns", s.netns, "type", "veth", "peer", "name", "vc", "netns", client]);
    const router = await runIn(s.netns, ["sh", "-c", "sysctl -qw net.ipv4.ip_forward=1 && ip addr add 10.7.42.1/24 dev vr && ip link set vr mtu 1280 up"]);
    expect(router).toMatchObject({ code: 0, stderr: "" });
    const host = await runIn(client, ["sh", "-c", `ip link set lo up && ip addr add ${CLIENT}/24 dev vc && ip link set vc mtu 1280 up && ip route add 10.7.41.0/24 via 10.7.42.1 advmss 1460`]);
    expect(host).toMatchObject({ code: 0, stderr: "" });
  }, 30_000);

  afterAll(async () => {
    if (client !== undefined) await removeNamespace(client);
    await s?.close();
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  }, 30_000);

  it(`synack sends ${BULK / MIB} MiB (curl GET): the router's ICMP lowers the path MTU to 1280, every byte arrives`, async () => {
    const r = await runIn(client!, ["sh", "-c", `curl -sS --fail -m 120 http://${s.synackIp}/bytes/${BULK} | sha256sum`], 130_000);
    expect(r.stderr).toBe("");
    expect(r.stdout.split(" ")[0]).toBe(patternSha(BULK));
    expect(s.stack.host.pathMtus.lookup(parseIpAddress(CLIENT)!, s.stack.now()).mtu).toBe(1280);
  }, 140_000);

  it(`synack receives ${BULK / MIB} MiB (curl POST) through the same router`, async () => {
    const file = join(tmp, "post.bin");
    const body = new Uint8Array(BULK);
    for (let off = 0; off < BULK; off += 65536) randomFillSync(body, off, Math.min(65536, BULK - off));
    writeFileSync(file, body);
    const sha = createHash("sha256").update(body).digest("hex");
    const r = await runIn(client!, ["curl", "-sS", "--fail", "-m", "120", "-H", "Content-Type: application/octet-stream", "--data-binary", `@${file}`, `http://${s.synackIp}/upload`], 130_000);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({ length: BULK, sha256: sha });
  }, 140_000);
});
