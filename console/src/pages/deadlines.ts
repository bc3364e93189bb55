// Overdue and due soon: the replies owed, per owing unit, form, age, days late and reminders
// sent, with filters (view, unit, form, kind, age, window) applied by the broker and paging by
// offset. Each row links to the request it answers.
import { get, path, type DeadlinePage } from "../api";
import { badge, field, formValues, h, input, messageLink, select, table, fill } from "../dom";
import { go, type Params } from "../main";

const PAGE = 50;

export async function renderDeadlines(root: HTMLElement, params: Params): Promise<void> {
  const view = params.get("view") ?? "overdue";
  const endpoint = params.get("endpoint") ?? "";
  const form = params.get("form") ?? "";
  const kind = params.get("kind") ?? "";
  const older = params.get("older_than_days") ?? "";
  const within = params.get("within_days") ?? "";
  const offset = Number(params.get("offset") ?? "0") || 0;
  const query = { view, endpoint, form, kind, older_than_days: older, within_days: view === "due-soon" ? within : "" };

  const page = await get<DeadlinePage>(path("/v1/deadlines", { ...query, limit: PAGE + 1, offset }));
  const rows = page.deadlines.slice(0, PAGE);
  const more = page.deadlines.length > PAGE;

  const filters = h(
    "form",
    {
      class: "filters",
      id: "deadline-filters",
      onsubmit: (e: Event) => {
        e.preventDefault();
        go("deadlines", formValues(e.target as HTMLFormElement));
      },
    },
    field(
      "Show",
      select(
        "view",
        [
          ["overdue", "Overdue"],
          ["due-soon", "Due soon"],
          ["open", "All open"],
          ["answered-late", "Answered late"],
          ["all", "All"],
        ],
        view,
      ),
    ),
    field("Owing unit (endpoint id)", input("endpoint", endpoint, { placeholder: "e.g. psy-risskov" })),
    field("Form", input("form", form, { placeholder: "e.g. LÆ125", size: 8 })),
    field(
      "Kind",
      select("kind", [["", "Any"], ["certificate", "Certificate"], ["mentor-response", "Mentor response"]], kind),
    ),
    field("Opened more than … days ago", input("older_than_days", older, { type: "number", min: 0, size: 4 })),
    field("Due within … days", input("within_days", within, { type: "number", min: 0, size: 4, placeholder: "2" })),
    h("button", { type: "submit" }, "Apply"),
  );

  const nav = h(
    "p",
    { class: "pager" },
    offset > 0
      ? h("a", { href: "#", id: "prev", onclick: (e: Event) => { e.preventDefault(); go("deadlines", { ...query, offset: String(Math.max(0, offset - PAGE)) }); } }, "← Previous")
      : null,
    ` Rows ${rows.length ? offset + 1 : 0}–${offset + rows.length} `,
    more
      ? h("a", { href: "#", id: "next", onclick: (e: Event) => { e.preventDefault(); go("deadlines", { ...query, offset: String(offset + PAGE) }); } }, "Next →")
      : null,
  );

  fill(root, 
    h("h1", {}, "Overdue & due soon"),
    filters,
    h("p", { class: "hint" }, `Broker time ${page.now}.`),
    table(
      rows,
      [
        { title: "Request", cell: (d) => messageLink(d.request.sender_gln, d.request.letter_id) },
        { title: "Kind", cell: (d) => d.kind },
        { title: "Owed by", cell: (d) => d.owed_by },
        { title: "Owed to", cell: (d) => d.owed_to },
        { title: "Form", cell: (d) => d.form ?? "–" },
        { title: "Age", cell: (d) => `${d.age_days} d`, className: "num" },
        { title: "Due", cell: (d) => d.due },
        { title: "State", cell: (d) => (d.overdue ? badge("overdue") : badge(d.state)) },
        { title: "Days late", cell: (d) => (d.days_late !== undefined ? String(d.days_late) : "–"), className: "num" },
        { title: "Reminders", cell: (d) => String(d.reminders_sent), className: "num" },
      ],
      "No replies owed match these filters.",
    ),
    nav,
  );
}
