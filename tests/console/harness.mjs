// The test's world: the real sektorbro binary on a manual clock with two operators (read-only
// anna, acting bo, bearer tokens), three endpoints played by HTTP receivers on 127.0.0.1 (one
// of them down, so its letters are dead-lettered), traffic made from schemas/examples/, and
// Debian's Chromium driven by playwright-core.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync, rmSync, existsSync, statSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";

export const SOURCE_DIR = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
export const TOKENS = { anna: "token-of-anna-ro", bo: "token-of-bo-acting" };
export const SAMPLE_CPR = "0101801234";

const sha256 = (s) => createHash("sha256").update(s).digest("hex");

// GS1 check digit for a 12-digit prefix.
export function gln(prefix12) {
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += Number(prefix12[11 - i]) * (i % 2 === 0 ? 3 : 1);
  return prefix12 + String((10 - (sum % 10)) % 10);
}

export const PARTIES = {
  jc: { id: "jc-aarhus", gln: "5790000123452", sor: "123451000016001", code: "kommunenummer", ident: "751", name: "Jobcenter Aarhus", kind: "jobcenter" },
  psy: { id: "psy-depression", gln: "5790000678907", sor: "265161000016000", code: "sorkode", ident: "265161000016000", name: "Psykiatrien, Afdeling for Depression og Angst", kind: "psychiatry" },
  down: { id: "psy-down", gln: gln("579000067891"), sor: "265161000016019", code: "sorkode", ident: "265161000016019", name: "Psykiatrien, nede", kind: "psychiatry" },
};

// A receiver: answers 200 (or `status`), records what arrived.
export function receiver(status = 200) {
  const received = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      received.push(body);
      res.writeHead(status, { "Content-Type": "text/plain" });
      res.end("");
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, received, url: `http://127.0.0.1:${server.address().port}/inbox` })));
}

// Starts the broker; resolves { url, stop, log } or rejects with its log.
export function startBroker(binary, dir, config) {
  const configPath = path.join(dir, "sektorbro.json");
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const logPath = path.join(dir, "broker.log");
  const child = spawn(binary, ["--config", configPath], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stderr.on("data", (d) => (log += d));
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error("the broker did not start in 30 s:\n" + log)); }, 30000);
    child.on("exit", (code) => { clearTimeout(timer); writeFileSync(logPath, log); reject(Object.assign(new Error(`the broker exited (${code}) before listening:\n${log}`), { log })); });
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/listening on (https?:\/\/[0-9.]+:\d+)/);
      if (m) {
        clearTimeout(timer);
        child.removeAllListeners("exit");
        resolve({
          url: m[1],
          log: () => log,
          stop: () => new Promise((r) => { child.on("exit", () => { writeFileSync(logPath, log); r(); }); child.kill("SIGTERM"); }),
        });
      }
    });
  });
}

export async function api(base, method, p, { token, body, type } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (type) headers["Content-Type"] = type;
  const r = await fetch(base + p, { method, headers, body });
  const text = await r.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: r.status, text, json };
}

// Re-evaluates `pred` until it holds or `ms` pass (each evaluation asks the broker).
export async function eventually(pred, ms = 20000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return true;
    await new Promise((r) => setImmediate(r));
  }
  return pred();
}

// A message from schemas/examples/<example>.xml with its ids, times and parties replaced.
export function letter(example, { envelope, id, now, from, to, request, discharge }) {
  let xml = readFileSync(path.join(SOURCE_DIR, "schemas/examples", example + ".xml"), "utf8");
  const party = (p) =>
    `<GLN>${p.gln}</GLN>\n      <SOR>${p.sor}</SOR>\n      <IdentifierCode>${p.code}</IdentifierCode>\n      <Identifier>${p.ident}</Identifier>\n      <Name>${p.name}</Name>`;
  xml = xml.replace(/(<Envelope>\s*<Identifier>)[^<]*/, `$1${envelope}`);
  xml = xml.replace(/(<Letter>\s*<Identifier>)[^<]*/, `$1${id}`);
  xml = xml.replace(/<Sent>[^<]*/, `<Sent>${now}`).replace(/<Authorised>[^<]*/, `<Authorised>${now}`);
  xml = xml.replace(/(<Sender>\s*)[\s\S]*?(\s*<\/Sender>)/, `$1${party(from)}$2`);
  xml = xml.replace(/(<Receiver>\s*)[\s\S]*?(\s*<\/Receiver>)/, `$1${party(to)}$2`);
  if (request) xml = xml.replace(/<RequestLetterIdentifier>[^<]*/, `<RequestLetterIdentifier>${request}`).replace(/<Form>LÆ285/, "<Form>LÆ125");
  if (discharge) {
    xml = xml.replace(/<AdmissionDate>[^<]*/, `<AdmissionDate>${discharge.admission}`).replace(/<DischargeDate>[^<]*/, `<DischargeDate>${discharge.date}`);
  }
  return xml;
}

export function brokerConfig(receivers, extra = {}) {
  const endpoint = (p, url, accepts) => ({
    id: p.id, kind: p.kind, name: p.name, gln: p.gln, sor: p.sor, identifier_code: p.code, identifier: p.ident, url, accepts,
  });
  const psyTakes = ["CertificateRequest", "MentorResponse", "Reminder"];
  return {
    listen: { address: "127.0.0.1", port: 0, allow_plain_http: true },
    store: { path: "broker.db" },
    delivery: { timeout_ms: 5000, retry: { max_attempts: 2, initial_backoff_ms: 20, max_backoff_ms: 50, jitter: 0.0 } },
    clock: { mode: "manual", start: "2026-11-02T09:00:00Z" },
    identity: { gln: "5790000000012", sor: "100001000016003", name: "Sektorbro" },
    endpoints: [
      endpoint(PARTIES.jc, receivers.jc.url, ["Certificate", "DischargeNotice", "Reminder"]),
      endpoint(PARTIES.psy, receivers.psy.url, psyTakes),
      endpoint(PARTIES.down, receivers.down.url, psyTakes),
    ],
    operators: [
      { name: "anna", role: "read-only", token_sha256: sha256(TOKENS.anna) },
      { name: "bo", role: "acting", token_sha256: sha256(TOKENS.bo) },
    ],
    ...extra,
  };
}

export function freshDir() {
  return mkdtempSync(path.join(tmpdir(), "sb-console-e2e-"));
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
}

export function isFolder(p) {
  return existsSync(p) && statSync(p).isDirectory();
}
