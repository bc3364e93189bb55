// Late share: per answering unit and month, certificates on time / late / open and the late
// share (the Audit Office's figure) as a chart and a table; mentor responses per jobcenter and
// month, and the distribution of discharge-notice lead times (how many came after discharge).
import { get, getText, path, type CertificateRow, type DeadlinePage, type MentorRow, type Stats } from "../api";
import { field, formValues, h, input, percent, s, table, fill } from "../dom";
import { go, type Params } from "../main";

function monthsBack(n: number): string {
  const d = new Date();
  d.setDate(1);
  d.setMonth(d.getMonth() - n);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}`;
}

// One small chart per unit: a stacked bar per month (on time, late, open) and the late share
// written above it.
function unitChart(unit: string, rows: CertificateRow[]): HTMLElement {
  const barW = 34, gap = 10, top = 22, height = 120, left = 30;
  const max = Math.max(1, ...rows.map((r) => r.received));
  const w = left + rows.length * (barW + gap) + gap;
  const svg = s("svg", { viewBox: `0 0 ${w} ${top + height + 34}`, width: w, height: top + height + 34, role: "img", "aria-label": `Certificates for ${unit} per month` });
  svg.append(s("line", { x1: left, y1: top + height, x2: w, y2: top + height, class: "axis" }));
  svg.append(s("text", { x: left - 4, y: top + 8, class: "tick", "text-anchor": "end" }, String(max)));
  rows.forEach((r, i) => {
    const x = left + gap + i * (barW + gap);
    let y = top + height;
    const parts: [number, string, string][] = [
      [r.answered_on_time, "on-time", "on time"],
      [r.answered_late, "late", "late"],
      [r.open, "open", "open"],
    ];
    for (const [n, cls, label] of parts) {
      if (n <= 0) continue;
      const bh = (n / max) * height;
      y -= bh;
      svg.append(s("rect", { x, y, width: barW, height: bh, class: `bar ${cls}` }, s("title", {}, `${r.month}: ${n} ${label}`)));
    }
    svg.append(s("text", { x: x + barW / 2, y: y - 4, class: "share", "text-anchor": "middle" }, percent(r.late_share)));
    svg.append(s("text", { x: x + barW / 2, y: top + height + 14, class: "tick", "text-anchor": "middle" }, r.month.slice(2)));
  });
  return h("figure", { class: "chart", "data-unit": unit }, h("figcaption", {}, unit), svg);
}

const LEAD_BUCKETS: [string, (d: number) => boolean][] = [
  ["after discharge", (d) => d < 0],
  ["same day", (d) => d === 0],
  ["1–2 days", (d) => d >= 1 && d <= 2],
  ["3–5 days", (d) => d >= 3 && d <= 5],
  ["6+ days", (d) => d >= 6],
];

// The CSV needs the operator's token too, so it is fetched and handed to the browser as a file.
async function downloadCsv(from: string, to: string): Promise<void> {
  const text = await getText(path("/v1/stats/certificates", { from, to, format: "csv" }));
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
  const a = h("a", { href: url, download: `sektorbro-late-share-${from}-${to}.csv` });
  document.body.append(a);
  a.click();
  a.remove();
  URL.revokeObjectURL(url);
}

export async function renderLateShare(root: HTMLElement, params: Params): Promise<void> {
  const from = params.get("from") || monthsBack(11);
  const to = params.get("to") || monthsBack(0);
  const [certs, mentor, leads] = await Promise.all([
    get<Stats<CertificateRow>>(path("/v1/stats/certificates", { from, to })),
    get<Stats<MentorRow>>(path("/v1/stats/mentor-responses", { from, to })),
    get<DeadlinePage>(path("/v1/deadlines", { view: "all", kind: "mentor-response", limit: 1000 })),
  ]);

  const units = new Map<string, CertificateRow[]>();
  for (const r of certs.rows) units.set(r.unit, [...(units.get(r.unit) ?? []), r]);
  for (const rows of units.values()) rows.sort((a, b) => a.month.localeCompare(b.month));

  const perJobcenter = new Map<string, number[]>();
  for (const d of leads.deadlines) {
    if (d.lead_time_days === undefined) continue;
    const counts = perJobcenter.get(d.owed_by) ?? LEAD_BUCKETS.map(() => 0);
    LEAD_BUCKETS.forEach(([, test], i) => (counts[i] += test(d.lead_time_days!) ? 1 : 0));
    perJobcenter.set(d.owed_by, counts);
  }

  fill(root, 
    h("h1", {}, "Late share"),
    h(
      "form",
      { class: "filters", onsubmit: (e: Event) => { e.preventDefault(); go("late", formValues(e.target as HTMLFormElement)); } },
      field("From month", input("from", from, { type: "month" })),
      field("To month", input("to", to, { type: "month" })),
      h("button", { type: "submit" }, "Show"),
      h("button", { type: "button", class: "csv", onclick: () => void downloadCsv(from, to) }, "Download CSV"),
    ),
    h("h2", {}, "Certificates per answering unit"),
    h("p", { class: "legend" }, h("span", { class: "key on-time" }), "on time ", h("span", { class: "key late" }), "late ", h("span", { class: "key open" }), "open — the figure above a bar is the late share"),
    units.size ? h("div", { class: "charts", id: "late-charts" }, [...units].map(([u, rows]) => unitChart(u, rows))) : h("p", { class: "empty" }, "No certificate requests in these months."),
    table(
      certs.rows,
      [
        { title: "Unit", cell: (r) => r.unit },
        { title: "Month", cell: (r) => r.month },
        { title: "Received", cell: (r) => r.received, className: "num" },
        { title: "On time", cell: (r) => r.answered_on_time, className: "num" },
        { title: "Late", cell: (r) => r.answered_late, className: "num" },
        { title: "Open", cell: (r) => r.open, className: "num" },
        { title: "Overdue", cell: (r) => r.overdue, className: "num" },
        { title: "Late share", cell: (r) => percent(r.late_share), className: "num" },
        { title: "Median days", cell: (r) => r.median_days_to_answer ?? "–", className: "num" },
        { title: "90th pct days", cell: (r) => r.p90_days_to_answer ?? "–", className: "num" },
      ],
      "",
    ),
    h("h2", {}, "Mentor responses per jobcenter"),
    table(
      mentor.rows,
      [
        { title: "Jobcenter", cell: (r) => r.jobcenter },
        { title: "Month", cell: (r) => r.month },
        { title: "Notices", cell: (r) => r.received, className: "num" },
        { title: "On time", cell: (r) => r.answered_on_time, className: "num" },
        { title: "Late", cell: (r) => r.answered_late, className: "num" },
        { title: "Open", cell: (r) => r.open, className: "num" },
        { title: "Late share", cell: (r) => percent(r.late_share), className: "num" },
        { title: "Median lead time", cell: (r) => (r.median_lead_time_days === null ? "–" : `${r.median_lead_time_days} d`), className: "num" },
        { title: "After discharge", cell: (r) => `${r.notices_after_discharge} (${percent(r.share_after_discharge)})`, className: "num" },
      ],
      "No discharge notices in these months.",
    ),
    h("h3", {}, "Discharge-notice lead times"),
    h("p", { class: "hint" }, `Days from a notice's arrival to the discharge date, over the latest ${leads.deadlines.length} mentor-response deadlines.`),
    table(
      [...perJobcenter],
      [
        { title: "Jobcenter", cell: ([j]) => j },
        ...LEAD_BUCKETS.map(([label], i) => ({
          title: label,
          className: "num",
          cell: ([, counts]: [string, number[]]) => {
            const total = counts.reduce((a, b) => a + b, 0) || 1;
            const bar = s("svg", { width: 60, height: 10, class: `dist${i === 0 ? " after" : ""}` }, s("rect", { x: 0, y: 0, height: 10, width: Math.round((counts[i] / total) * 60) }));
            return h("span", {}, bar, ` ${counts[i]}`);
          },
        })),
      ],
      "No lead times yet.",
    ),
  );
}
