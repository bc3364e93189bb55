// Dead letters and receipts missing: what delivery gave up on, each with a requeue button (the
// acting role; the read-only role sees the broker's refusal), and delivered messages whose
// receipt has not come. Both paged by id.
import { get, path, type MessagePage } from "../api";
import { receiptsMissing } from "../counts";
import { h, table, fill } from "../dom";
import { go, type Params } from "../main";
import { messageColumns, requeueButton } from "./messages";

const PAGE = 50;

export async function renderDeadLetters(root: HTMLElement, params: Params): Promise<void> {
  const after = params.get("after") ?? "";
  const endpoint = params.get("endpoint") ?? "";
  const rafter = params.get("receipts_after") ?? "";
  const [dead, missing] = await Promise.all([
    get<MessagePage>(path("/v1/dead-letters", { after: after || 0, endpoint, limit: PAGE })),
    receiptsMissing(rafter, PAGE),
  ]);
  fill(root, 
    h("h1", {}, "Dead letters"),
    h("p", { class: "hint" }, "Delivery gave up on these. Requeue one when its receiver is back (acting operators)."),
    h(
      "div",
      { id: "dead-letters" },
      table(
        dead.messages,
        messageColumns([
          { title: "Last error", cell: (m) => m.last_error ?? "–" },
          { title: "", cell: (m) => requeueButton(m.sender.gln, m.letters[0]?.id ?? "") },
        ]),
        "No dead letters.",
      ),
    ),
    dead.next_after !== undefined
      ? h("p", { class: "pager" }, h("a", { href: "#", id: "dead-next", onclick: (e: Event) => { e.preventDefault(); go("dead-letters", { endpoint, after: String(dead.next_after) }); } }, "Next page →"))
      : null,
    h("h1", {}, "Receipts missing"),
    h(
      "p",
      { class: "hint" },
      missing.serverSide
        ? "Delivered messages whose receiver has not sent the receipt the sender asked for."
        : "Delivered messages whose receipt has not come, from one page of delivered messages (this broker cannot filter by receipt yet).",
    ),
    h("div", { id: "receipts-missing" }, table(missing.page.messages, messageColumns(), "No receipts missing.")),
    missing.page.next_after !== undefined
      ? h("p", { class: "pager" }, h("a", { href: "#", id: "receipts-next", onclick: (e: Event) => { e.preventDefault(); go("dead-letters", { after, endpoint, receipts_after: String(missing.page.next_after) }); } }, "Next page →"))
      : null,
  );
}
