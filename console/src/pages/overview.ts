// Overview: ready or not, deliveries waiting and in flight, per receiving endpoint, dead
// letters, receipts missing, replies open / due soon / overdue, the store (kind, commit
// counters) and the audit chain's state (head, keyed, checkpointed: GET /v1/store).
// Three requests, each cheap at any store size: /v1/health, /v1/store and /v1/counts (the
// broker's last count of the store, at most a few seconds old; it says when it was taken).
// Refreshes itself every 5 seconds (paused while the tab is hidden).
import { get, type Counts, type Health, type StoreState } from "../api";
import { errorBox, h, table, time, fill } from "../dom";
import type { Cleanup } from "../main";

const REFRESH_MS = 5000;

function tile(id: string, label: string, value: string, href?: string, alert = false): HTMLElement {
  const v = h("span", { class: "value", id }, value);
  return h("div", { class: `tile${alert ? " alert" : ""}` }, h("span", { class: "label" }, label), href ? h("a", { href }, v) : v);
}

async function load(root: HTMLElement): Promise<void> {
  const [health, counts, store] = await Promise.all([
    get<Health>("/v1/health"),
    get<Counts>("/v1/counts"),
    get<StoreState>("/v1/store").catch(() => null), // an older broker: no /v1/store
  ]);
  const audit = store?.audit;
  const d = counts.deadlines;
  const dueSoon = d.due_soon_more ? `${d.due_soon}+` : String(d.due_soon);
  const queued = counts.deliveries.filter((q) => q.waiting > 0 || q.in_flight > 0);
  const ready = health.status === "ready";
  fill(root, 
    h("h1", {}, "Overview"),
    h(
      "p",
      { class: "status-line" },
      h("span", { class: `dot ${ready ? "ok" : "bad"}` }),
      h("strong", { id: "ready" }, ready ? "Ready" : health.status),
      ` · broker time ${time(health.now)} · clock ${health.clock}`,
      health.warning ? h("span", { class: "warning" }, ` · ${health.warning}`) : null,
      h("span", { class: "refreshed", id: "refreshed" }, ` · updated ${new Date().toLocaleTimeString()}`),
    ),
    h(
      "section",
      { class: "tiles" },
      tile("waiting", "Waiting for delivery", String(health.waiting_deliveries), "#/messages?state=pending"),
      tile("in-flight", "In flight", String(health.deliveries_in_flight)),
      health.receipts_owed !== undefined ? tile("receipts-owed", "Receipts awaited", String(health.receipts_owed)) : null,
      tile("dead-letters", "Dead letters", String(counts.dead_letters.total), "#/dead-letters", counts.dead_letters.total > 0),
      tile("receipts-missing", "Receipts missing", String(counts.receipts_missing.total), "#/dead-letters", counts.receipts_missing.total > 0),
      tile("open", "Replies open", String(d.open), "#/deadlines?view=open"),
      tile("due-soon", `Due within ${d.due_soon_days} days`, dueSoon, "#/deadlines?view=due-soon"),
      tile("overdue", "Overdue", String(d.overdue), "#/deadlines?view=overdue", d.overdue > 0),
    ),
    h("p", { class: "hint", id: "counted" }, `Counted ${time(counts.counted_at)} (${Math.round(counts.age_seconds)} s ago on the broker's clock).`),
    h("h2", {}, "Waiting per receiving endpoint"),
    table(
      queued.sort((a, b) => b.waiting - a.waiting),
      [
        { title: "Endpoint", cell: (q) => h("a", { href: `#/messages?state=pending&endpoint=${encodeURIComponent(q.endpoint)}` }, q.endpoint) },
        { title: "Waiting", cell: (q) => q.waiting, className: "num" },
        { title: "In flight", cell: (q) => q.in_flight, className: "num" },
      ],
      "Nothing waiting.",
    ),
    h("h2", {}, "Store and audit chain"),
    h(
      "dl",
      { class: "facts" },
      store ? h("dt", {}, "Store") : null,
      store ? h("dd", { id: "store-kind" }, store.kind === "postgres" ? "PostgreSQL" : "SQLite") : null,
      h("dt", {}, "Commit groups"),
      h("dd", { id: "commit-groups" }, String(health.commit_groups)),
      h("dt", {}, "Jobs committed"),
      h("dd", {}, String(health.commit_jobs)),
      h("dt", {}, "Jobs per group"),
      h("dd", {}, health.commit_groups ? (health.commit_jobs / health.commit_groups).toFixed(1) : "–"),
      h("dt", {}, "Audit chain"),
      h(
        "dd",
        { id: "audit-chain" },
        !audit
          ? "–"
          : audit.error
            ? h("span", { class: "warning" }, `head unreadable: ${audit.error}`)
            : `${audit.entries ?? 0} entries, head ${(audit.head_hash ?? "").slice(0, 12)}…`,
      ),
      h("dt", {}, "Audit key"),
      h("dd", { id: "audit-keyed" }, !audit ? "–" : audit.keyed ? "keyed (HMAC)" : h("span", { class: "warning" }, "unkeyed: set audit.key_file")),
      h("dt", {}, "Checkpoint"),
      h(
        "dd",
        { id: "audit-checkpoint" },
        !audit
          ? "–"
          : audit.checkpointed
            ? `written outside the store every ${Math.round((audit.checkpoint_interval_ms ?? 0) / 1000)} s`
            : h("span", { class: "warning" }, "none: set audit.checkpoint_file"),
      ),
      h("dt", {}, "Verify"),
      h("dd", {}, h("code", {}, "sektorbro-audit verify"), " (reads every entry; docs/audit.md)"),
    ),
  );
}

export async function renderOverview(root: HTMLElement): Promise<Cleanup> {
  await load(root);
  let stopped = false;
  let timer = 0;
  const tick = async () => {
    if (stopped) return;
    if (!document.hidden) {
      try {
        await load(root);
      } catch (e) {
        if (!stopped) root.prepend(errorBox(e));
      }
    }
    if (!stopped) timer = window.setTimeout(tick, REFRESH_MS);
  };
  timer = window.setTimeout(tick, REFRESH_MS);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
