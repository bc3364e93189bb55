// Pages of messages whose receipt is missing (the dead-letters page). The Overview's counts come
// from GET /v1/counts (the broker's last count of the store), not from pages.
import { get, path, type MessagePage, type MessageSummary } from "./api";

// Delivered messages whose receiver owes a receipt that has not come. Asks the broker for
// receipt=missing; a broker without that filter answers 400, and then one page of delivered
// messages is filtered here (said so on the page).
export async function receiptsMissing(
  after: string,
  limit: number,
): Promise<{ page: MessagePage; serverSide: boolean }> {
  try {
    const page = await get<MessagePage>(path("/v1/messages", { receipt: "missing", after: after || 0, limit }));
    return { page, serverSide: true };
  } catch (e) {
    if (!(e instanceof Error) || !("status" in e) || (e as { status: number }).status !== 400) throw e;
  }
  const page = await get<MessagePage>(path("/v1/messages", { state: "delivered", after: after || 0, limit }));
  const waiting = (m: MessageSummary) => m.receipt_requested && m.receipt === "none";
  return { page: { messages: page.messages.filter(waiting), next_after: page.next_after }, serverSide: false };
}
