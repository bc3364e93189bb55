// The operators' JSON API, same origin, with the operator's bearer token when one was given
// (a browser certificate works without one). The token lives in sessionStorage only: closing
// the tab forgets it.

const TOKEN_KEY = "sektorbro.token";

export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
  ) {
    super(message);
  }
}

export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value: string | null): void {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

async function call<T>(method: "GET" | "POST", path: string, raw = false, json?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  if (json !== undefined) headers["Content-Type"] = "application/json";
  let response: Response;
  try {
    const body = json !== undefined ? JSON.stringify(json) : undefined;
    response = await fetch(path, { method, headers, body, credentials: "same-origin", cache: "no-store" });
  } catch {
    throw new ApiError(0, "the broker did not answer");
  }
  const text = await response.text();
  if (raw && response.ok) return text as T;
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const reason =
      body && typeof body === "object" && "error" in body
        ? String((body as { error: unknown }).error)
        : `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, reason);
  }
  return body as T;
}

export const get = <T>(path: string) => call<T>("GET", path);
export const post = <T>(path: string) => call<T>("POST", path);
export const getText = (path: string) => call<string>("GET", path, true);
// A JSON body: what must never be in a URL (a CPR number) travels this way.
export const postJson = <T>(path: string, body: unknown) => call<T>("POST", path, false, body);

// Who is signed in and with which role (GET /v1/whoami).
export interface Whoami {
  operator: string;
  role: "acting" | "read-only";
}

// Builds "/v1/x?a=1&b=2", leaving out empty values.
export function path(base: string, query: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `${base}?${s}` : base;
}

export const seg = encodeURIComponent;

// --- What the API answers (docs/openapi.yaml) ---

export interface Health {
  status: string;
  clock: string;
  now: string;
  waiting_deliveries: number;
  deliveries_in_flight: number;
  receipts_owed?: number; // receipts the broker is waiting for (newer brokers)
  commit_groups: number;
  commit_jobs: number;
  warning?: string;
}

// GET /v1/counts: the Overview's figures, from the broker's last count of the store (taken off
// the request path every few seconds: cheap at any store size; docs/openapi.yaml, Counts).
export interface EndpointCounts {
  total: number;
  by_endpoint: { endpoint: string; count: number }[];
}
export interface Counts {
  counted_at: string;
  age_seconds: number;
  deadlines: {
    open: number;
    overdue: number;
    due_soon: number;
    due_soon_more: boolean;
    due_soon_days: number;
    by_unit: { unit: string; form: string; open: number; overdue: number }[];
  };
  dead_letters: EndpointCounts;
  receipts_missing: EndpointCounts;
  deliveries: { endpoint: string; waiting: number; in_flight: number }[];
}

// GET /v1/store: which store, and the audit chain as the broker knows it (docs/audit.md).
export interface StoreState {
  kind: "sqlite" | "postgres";
  audit: {
    keyed: boolean;
    checkpointed: boolean;
    checkpoint_interval_ms?: number;
    entries?: number;
    head_hash?: string;
    error?: string;
  };
}

export interface Party {
  gln: string;
  endpoint: string;
}

export interface LetterSummary {
  id: string;
  type: string;
  patient?: string;
  status?: string;
}

export interface MessageSummary {
  message_id: number;
  envelope_id: string;
  sender: Party;
  receiver: Party;
  letters: LetterSummary[];
  state: string;
  attempts: number;
  receipt: string;
  receipt_requested: boolean;
  received_at: string;
  next_attempt_at?: string;
  last_error?: string;
}

export interface MessagePage {
  messages: MessageSummary[];
  next_after?: number;
  next_before?: number;
}

export interface Deadline {
  kind: string;
  request: { sender_gln: string; letter_id: string };
  owed_by: string;
  owed_to: string;
  opened_at: string;
  due: string;
  due_end: string;
  state: string;
  overdue: boolean;
  overdue_flagged: boolean;
  reminders_sent: number;
  age_days: number;
  form?: string;
  answered_at?: string;
  days_late?: number;
  next_action_at?: string;
  discharge_date?: string;
  lead_time_days?: number;
  notice_late?: boolean;
}

export interface DeadlinePage {
  view: string;
  now: string;
  deadlines: Deadline[];
}

export interface MessageDetail extends MessageSummary {
  timeline: { at: string; event: string; detail: string }[];
  deadline?: Deadline;
}

export interface Figures {
  month: string;
  received: number;
  answered_on_time: number;
  answered_late: number;
  declined: number;
  cancelled: number;
  open: number;
  overdue: number;
  late_share: number | null;
  median_days_to_answer: number | null;
  p90_days_to_answer: number | null;
}

export interface CertificateRow extends Figures {
  unit: string;
}

export interface MentorRow extends Figures {
  jobcenter: string;
  median_lead_time_days: number | null;
  notices_after_discharge: number;
  share_after_discharge: number | null;
}

export interface Stats<R> {
  from: string;
  to: string;
  rows: R[];
}
