// Overview: ready or not, deliveries waiting and in flight, per receiving endpoint, dead
// letters, receipts missing, replies open / due soon / overdue, the store (kind, commit
// counters) and the audit chain's state (head, keyed, checkpointed: GET /v1/store).
// Refreshes itself every 5 seconds (paused while the tab is hidden).
import { get, path, type Health, type MessagePage, type StoreState } from "../api";
import { countDeadlines, countMessages, countText, receiptsMissing, COUNT_LIMIT, type Count } from "../counts";
import { errorBox, h, table, time, fill } from "../dom";
import type { Cleanup } from "../main";

const REFRESH_MS = 5000;

function tile(id: string, label: string, value: string, href?: string, alert = false): HTMLElement {
  const v = h("span", { class: "value", id }, value);
  return h("div", { class: `tile${alert ? " alert" : ""}` }, h("span", { class: "label" }, label), href ? h("a", { href }, v) : v);
}

async function load(root: HTMLElement): Promise<void> {
  const [health, dead, overdue, dueSoon, open, pending, missing, store] = await Promise.all([
    get<Health>("/v1/health"),
    countMessages("/v1/dead-letters"),
    countDeadlines("overdue"),
    countDeadlines("due-soon"),
    countDeadlines("open"),
    get<MessagePage>(path("/v1/messages", { state: "pending", after: 0, limit: COUNT_LIMIT })),
    receiptsMissing("", 200),
    get<StoreState>("/v1/store").catch(() => null), // an older broker: no /v1/store
  ]);
  const audit = store?.audit;
  const perEndpoint = new Map<string, number>();
  for (const m of pending.messages) perEndpoint.set(m.receiver.endpoint, (perEndpoint.get(m.receiver.endpoint) ?? 0) + 1);
  const missingCount: Count = { n: missing.page.messages.length, more: missing.page.next_after !== undefined };
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
      tile("dead-letters", "Dead letters", countText(dead), "#/dead-letters", dead.n > 0),
      // Without the broker's receipt=missing filter, only "not yet in" can be counted (one page).
      missing.serverSide
        ? tile("receipts-missing", "Receipts missing", countText(missingCount), "#/dead-letters", missingCount.n > 0)
        : tile("receipts-missing", "Receipts not yet in", "≥" + countText(missingCount), "#/dead-letters"),
      tile("open", "Replies open", countText(open), "#/deadlines?view=open"),
      tile("due-soon", "Due within 2 days", countText(dueSoon), "#/deadlines?view=due-soon"),
      tile("overdue", "Overdue", countText(overdue), "#/deadlines?view=overdue", overdue.n > 0),
    ),
    h("h2", {}, "Waiting per receiving endpoint"),
    table(
      [...perEndpoint.entries()].sort((a, b) => b[1] - a[1]),
      [
        { title: "Endpoint", cell: ([e]) => h("a", { href: `#/messages?state=pending&endpoint=${encodeURIComponent(e)}` }, e) },
        { title: "Waiting", cell: ([, n]) => n, className: "num" },
      ],
      "Nothing waiting.",
    ),
    pending.next_after !== undefined ? h("p", { class: "hint" }, `Counted over the first ${COUNT_LIMIT} waiting messages.`) : null,
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
