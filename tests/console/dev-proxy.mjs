// FOR DEVELOPMENT ONLY, until the broker serves /console/ itself: one origin that answers
// /console/* from the built assets and passes everything else to the real broker. The browser
// tests use it only when SEKTORBRO_CONSOLE_DEV_PROXY=1; ctest never sets it.
import http from "node:http";
import { readFileSync, existsSync } from "node:fs";
import path from "node:path";

const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml" };

export function startDevProxy(brokerUrl, assets) {
  const target = new URL(brokerUrl);
  const server = http.createServer((req, res) => {
    if (req.url.startsWith("/console/")) {
      let rel = decodeURIComponent(req.url.slice("/console/".length).split("?")[0]) || "index.html";
      if (rel.split("/").some((s) => s === ".." || s.startsWith("."))) { res.writeHead(400); res.end(); return; }
      const file = path.join(assets, rel);
      if (!existsSync(file)) { res.writeHead(404); res.end(); return; }
      // The same Content-Security-Policy as broker/console/static_assets.cpp sends.
      res.writeHead(200, {
        "Content-Type": TYPES[path.extname(file)] ?? "application/octet-stream",
        "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
      });
      res.end(readFileSync(file));
      return;
    }
    const upstream = http.request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
      (up) => { res.writeHead(up.statusCode, up.headers); up.pipe(res); },
    );
    upstream.on("error", () => { res.writeHead(502); res.end(); });
    req.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() })));
}
