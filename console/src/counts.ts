// Counts the console shows from list answers. The API has no count endpoint: a page of up to
// 1000 is read and a full page is shown as "1000+", so no count ever walks the whole store.
import { get, path, type DeadlinePage, type MessagePage, type MessageSummary } from "./api";

export const COUNT_LIMIT = 1000;

export interface Count {
  n: number;
  more: boolean;
}

export function countText(c: Count): string {
  return c.more ? `${c.n}+` : String(c.n);
}

export async function countDeadlines(view: string): Promise<Count> {
  const page = await get<DeadlinePage>(path("/v1/deadlines", { view, limit: COUNT_LIMIT }));
  return { n: page.deadlines.length, more: page.deadlines.length === COUNT_LIMIT };
}

export async function countMessages(base: string, query: Record<string, string> = {}): Promise<Count> {
  // after=0: oldest first, paged with next_after (the broker lists newest first otherwise).
  const page = await get<MessagePage>(path(base, { after: 0, ...query, limit: COUNT_LIMIT }));
  return { n: page.messages.length, more: page.next_after !== undefined };
}

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
