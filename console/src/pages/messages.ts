// Message browser: by state, endpoint, time received, envelope id, missing receipt and id range
// (the broker pages by id: newest first with before=…, or oldest first from "After message #"
// with after=…), or one message by sender GLN + letter id, or every message
// holding a letter id; one message's timeline in time order, its receipt and its deadline. CPR
// numbers arrive masked from the broker and are shown as they come. The search by CPR number is
// shown to acting operators only (the broker refuses anyone else and puts each search on the
// audit chain); the number is posted in a JSON body and never put in the page's URL.
import { get, path, post, postJson, seg, ApiError, type MessageDetail, type MessagePage, type MessageSummary, type Whoami } from "../api";
import { badge, errorBox, field, formValues, h, input, messageLink, select, table, time, fill } from "../dom";
import { go, type Params } from "../main";

const STATES: [string, string][] = [
  ["", "Any state"],
  ["pending", "Pending"],
  ["delivered", "Delivered"],
  ["refused", "Refused"],
  ["dead-lettered", "Dead-lettered"],
];

export function messageColumns(extra: { title: string; cell: (m: MessageSummary) => Node | string }[] = []) {
  return [
    { title: "#", cell: (m: MessageSummary) => String(m.message_id), className: "num" },
    { title: "Letter", cell: (m: MessageSummary) => messageLink(m.sender.gln, m.letters[0]?.id ?? "", m.letters.map((l) => l.id).join(", ")) },
    { title: "Type", cell: (m: MessageSummary) => m.letters.map((l) => l.type).join(", ") },
    { title: "From", cell: (m: MessageSummary) => m.sender.endpoint },
    { title: "To", cell: (m: MessageSummary) => m.receiver.endpoint },
    { title: "Received", cell: (m: MessageSummary) => time(m.received_at) },
    { title: "State", cell: (m: MessageSummary) => badge(m.state) },
    { title: "Receipt", cell: (m: MessageSummary) => (m.receipt_requested ? badge(m.receipt, `receipt-${m.receipt}`) : "not asked") },
    { title: "Attempts", cell: (m: MessageSummary) => String(m.attempts), className: "num" },
    ...extra,
  ];
}

export async function renderMessages(root: HTMLElement, params: Params): Promise<void> {
  const state = params.get("state") ?? "";
  const endpoint = params.get("endpoint") ?? "";
  const after = params.get("after") ?? "";
  const before = params.get("before") ?? "";
  // Newest first unless "After message #" is given: on a store of millions the first page is
  // today's traffic, not last year's.
  const forward = after !== "";
  const limit = params.get("limit") ?? "50";
  const letter = params.get("letter") ?? "";
  const sender = params.get("sender") ?? "";
  const from = params.get("from") ?? "";
  const to = params.get("to") ?? "";
  const envelope = params.get("envelope") ?? "";
  const receipt = params.get("receipt") ?? "";

  if (letter && sender) {
    go(`message/${seg(sender)}/${seg(letter)}`);
    return;
  }
  let page: MessagePage;
  let heading: string;
  if (letter) {
    const found = await get<{ messages: MessageSummary[] }>(`/v1/letters/${seg(letter)}`);
    page = { messages: found.messages };
    heading = `Messages holding letter ${letter}`;
  } else {
    // The broker's default is newest first, paged by before= (next_before); after= reads
    // forward, oldest first (next_after).
    const paging = forward ? { after } : { before };
    page = await get<MessagePage>(
      path("/v1/messages", { state, endpoint, from: isoOf(from), to: isoOf(to), envelope, receipt, ...paging, limit }),
    );
    heading = forward ? (after === "0" ? "Messages, oldest first" : `Messages after #${after}`) : before ? `Messages before #${before}` : "Messages";
  }
  const filters = { state, endpoint, from, to, envelope, receipt, limit };
  let role: Whoami["role"] = "read-only";
  try {
    role = (await get<Whoami>("/v1/whoami")).role;
  } catch {
    role = "read-only"; // an older broker: no CPR search offered
  }

  const search = h(
    "form",
    { class: "filters", id: "message-search", onsubmit: (e: Event) => { e.preventDefault(); go("messages", formValues(e.target as HTMLFormElement)); } },
    field("Sender GLN", input("sender", sender, { placeholder: "13 digits", size: 14, inputmode: "numeric" })),
    field("Letter id", input("letter", letter, { size: 14 })),
    field("State", select("state", STATES, state)),
    field("Endpoint", input("endpoint", endpoint, { placeholder: "sender or receiver id", size: 12 })),
    field("Received from", input("from", from, { type: "datetime-local" })),
    field("Received before", input("to", to, { type: "datetime-local" })),
    field("Envelope id", input("envelope", envelope, { size: 14 })),
    field("Receipt", select("receipt", [["", "Any"], ["missing", "Missing (after the last resend)"]], receipt)),
    field("After message #", input("after", after, { type: "number", min: 0, size: 8 })),
    field("Per page", select("limit", [["20", "20"], ["50", "50"], ["100", "100"], ["500", "500"]], limit)),
    h("button", { type: "submit" }, "Search"),
  );
  const pager = h(
    "p",
    { class: "pager" },
    forward || before ? h("a", { href: "#", id: "first", onclick: (e: Event) => { e.preventDefault(); go("messages", filters); } }, "⇤ Newest") : null,
    " ",
    forward && page.next_after !== undefined
      ? h("a", { href: "#", id: "next", onclick: (e: Event) => { e.preventDefault(); go("messages", { ...filters, after: String(page.next_after) }); } }, "Next page →")
      : null,
    !forward && page.next_before !== undefined
      ? h("a", { href: "#", id: "next", onclick: (e: Event) => { e.preventDefault(); go("messages", { ...filters, before: String(page.next_before) }); } }, "Older →")
      : null,
  );
  fill(root, 
    h("h1", {}, heading),
    search,
    h("p", { class: "hint" }, forward
        ? "Oldest first from the message number given (in the order they arrived); the broker pages by id, so a page is as fast on ten million messages as on ten."
        : "Newest first (give “After message #” to read forward from a number); the broker pages by id, so a page is as fast on ten million messages as on ten."),
    table(page.messages, messageColumns(), "No messages match."),
    pager,
    role === "acting" ? cprSearch() : null,
  );
}

// "2026-11-20T09:30" from a datetime-local field (the browser's local time) → an instant.
function isoOf(local: string): string {
  if (!local) return "";
  const t = new Date(local);
  return Number.isNaN(t.getTime()) ? "" : t.toISOString();
}

// The acting operators' search by CPR number: POST /v1/messages/search-by-cpr. The number stays
// in this form and the request body: not in the URL, not in the page once answered.
function cprSearch(): HTMLElement {
  const cpr = h("input", { type: "password", name: "cpr", id: "cpr", autocomplete: "off", inputmode: "numeric", size: 12, placeholder: "DDMMYY-SSSS", required: true });
  const results = h("div", { id: "cpr-results" });
  const run = async (before?: number) => {
    results.replaceChildren(h("p", { class: "loading" }, "Searching…"));
    try {
      const body: Record<string, unknown> = { cpr: cpr.value.trim(), limit: 50 };
      if (before) body.before = before;
      const page = await postJson<MessagePage>("/v1/messages/search-by-cpr", body);
      results.replaceChildren(
        table(page.messages, messageColumns(), "No messages about this citizen."),
        page.next_before !== undefined
          ? h("p", { class: "pager" }, h("a", { href: "#", id: "cpr-next", onclick: (e: Event) => { e.preventDefault(); void run(page.next_before); } }, "Older →"))
          : "",
      );
    } catch (e) {
      results.replaceChildren(errorBox(e));
    }
  };
  return h(
    "section",
    { class: "cpr-search", id: "cpr-search" },
    h("h2", {}, "Search by CPR number"),
    h("p", { class: "hint" }, "Acting operators only. Each search is written on the audit record (who and when, never the number)."),
    h(
      "form",
      { class: "filters", id: "cpr-form", onsubmit: (e: Event) => { e.preventDefault(); void run(); } },
      field("CPR number", cpr),
      h("button", { type: "submit", id: "cpr-submit" }, "Search"),
    ),
    results,
  );
}

// Requeue with the outcome shown beside the button (the read-only role is refused by the
// broker and the refusal is shown).
export function requeueButton(gln: string, letterId: string, after?: () => void): HTMLElement {
  const outcome = h("span", { class: "outcome", role: "status" });
  const button = h("button", {
    class: "requeue",
    "data-letter": letterId,
    onclick: async () => {
      button.setAttribute("disabled", "");
      outcome.textContent = "requeueing…";
      outcome.className = "outcome";
      try {
        const r = await post<{ requeued: number }>(`/v1/messages/${seg(gln)}/${seg(letterId)}/requeue`);
        outcome.textContent = `requeued (message #${r.requeued})`;
        outcome.className = "outcome ok";
        if (after) after();
      } catch (e) {
        const status = e instanceof ApiError ? `${e.status}: ` : "";
        outcome.textContent = `refused — ${status}${e instanceof Error ? e.message : String(e)}`;
        outcome.className = "outcome bad";
        button.removeAttribute("disabled");
      }
    },
  }, "Requeue");
  return h("span", { class: "requeue-cell" }, button, " ", outcome);
}

export async function renderMessage(root: HTMLElement, _params: Params, parts: string[]): Promise<void> {
  const [, gln = "", letterId = ""] = parts;
  let m: MessageDetail;
  try {
    m = await get<MessageDetail>(`/v1/messages/${seg(gln)}/${seg(letterId)}`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      fill(root, h("h1", {}, `Letter ${letterId}`), errorBox(e));
      return;
    }
    throw e;
  }
  const timeline = [...m.timeline].sort((a, b) => a.at.localeCompare(b.at));
  const receiptEvents = timeline.filter((e) => /receipt|resen/i.test(e.event)); // receipts, resends, receipt-missing
  const d = m.deadline;
  fill(root, 
    h("h1", {}, `Message #${m.message_id}`, " ", badge(m.state)),
    h(
      "dl",
      { class: "facts", id: "message-facts" },
      h("dt", {}, "Envelope"),
      h("dd", {}, m.envelope_id),
      h("dt", {}, "From"),
      h("dd", {}, `${m.sender.endpoint} (${m.sender.gln})`),
      h("dt", {}, "To"),
      h("dd", {}, `${m.receiver.endpoint} (${m.receiver.gln})`),
      h("dt", {}, "Received"),
      h("dd", {}, time(m.received_at)),
      h("dt", {}, "Delivery"),
      h("dd", {}, `${m.state} after ${m.attempts} attempt(s)`, m.next_attempt_at ? `; next ${time(m.next_attempt_at)}` : "", m.last_error ? ` — ${m.last_error}` : ""),
      h("dt", {}, "Receipt"),
      h("dd", { id: "receipt" }, m.receipt_requested ? m.receipt : "not asked for"),
    ),
    m.state === "dead-lettered" || m.state === "refused" ? h("p", {}, requeueButton(m.sender.gln, m.letters[0]?.id ?? letterId)) : null,
    h("h2", {}, "Letters"),
    table(m.letters, [
      { title: "Letter id", cell: (l) => l.id },
      { title: "Type", cell: (l) => l.type },
      { title: "Status", cell: (l) => l.status ?? "–" },
      { title: "Patient (CPR masked)", cell: (l) => h("span", { class: "cpr" }, l.patient ?? "–") },
    ]),
    h("h2", {}, "Deadline"),
    d
      ? h(
          "dl",
          { class: "facts", id: "deadline" },
          h("dt", {}, "Reply owed"),
          h("dd", {}, `${d.kind} by ${d.owed_by} to ${d.owed_to}${d.form ? ` (${d.form})` : ""}`),
          h("dt", {}, "Due"),
          h("dd", {}, d.due, " ", d.overdue ? badge("overdue") : badge(d.state)),
          h("dt", {}, "Age"),
          h("dd", {}, `${d.age_days} days; ${d.reminders_sent} reminder(s) sent`),
          d.days_late !== undefined ? [h("dt", {}, "Days late"), h("dd", {}, String(d.days_late))] : null,
          d.answered_at ? [h("dt", {}, "Answered"), h("dd", {}, time(d.answered_at))] : null,
          d.lead_time_days !== undefined ? [h("dt", {}, "Notice lead time"), h("dd", {}, `${d.lead_time_days} days`)] : null,
        )
      : h("p", { class: "empty" }, "No reply is owed for this message."),
    h("h2", {}, "Receipts"),
    table(receiptEvents, [
      { title: "At", cell: (e) => time(e.at) },
      { title: "Event", cell: (e) => e.event },
      { title: "Detail", cell: (e) => e.detail },
    ], m.receipt_requested ? "No receipt events yet." : "The sender did not ask for a receipt."),
    h("h2", {}, "Timeline"),
    h(
      "ol",
      { class: "timeline", id: "timeline" },
      timeline.map((e) => h("li", {}, h("time", {}, time(e.at)), " ", h("strong", {}, e.event), e.detail ? ` — ${e.detail}` : "")),
    ),
  );
}
