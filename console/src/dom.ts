// Small helpers to build the DOM without a framework. Text always goes in as text nodes, never
// as HTML, so nothing the broker answers can inject markup.

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | ((e: Event) => void) | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === "function") el.addEventListener(k.replace(/^on/, ""), v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const SVG = "http://www.w3.org/2000/svg";
export function s(tag: string, attrs: Record<string, string | number> = {}, ...children: (Node | string)[]): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(c));
  return el;
}

export interface Column<T> {
  title: string;
  cell: (row: T) => Child | Child[];
  className?: string;
}

export function table<T>(rows: T[], columns: Column<T>[], empty = "Nothing to show."): HTMLElement {
  if (rows.length === 0) return h("p", { class: "empty" }, empty);
  return h(
    "table",
    {},
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { class: c.className }, c.title)))),
    h(
      "tbody",
      {},
      rows.map((r) => h("tr", {}, columns.map((c) => h("td", { class: c.className }, c.cell(r))))),
    ),
  );
}

export function badge(text: string, kind: string = text): HTMLElement {
  return h("span", { class: `badge badge-${kind.replace(/[^a-z-]/g, "")}` }, text);
}

export function field(label: string, control: HTMLElement): HTMLElement {
  return h("label", { class: "field" }, h("span", {}, label), control);
}

export function select(name: string, options: [string, string][], value: string): HTMLSelectElement {
  return h(
    "select",
    { name },
    options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)),
  );
}

export function input(name: string, value: string, attrs: Attrs = {}): HTMLInputElement {
  return h("input", { name, value, ...attrs });
}

export function errorBox(e: unknown): HTMLElement {
  const text = e instanceof Error ? e.message : String(e);
  return h("p", { class: "error", role: "alert" }, text);
}

// "2026-11-03T09:12:00Z" → "2026-11-03 09:12" in the browser's time zone.
export function time(iso: string | undefined): string {
  if (!iso) return "–";
  const d = new Date(iso);
  if (isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function percent(v: number | null | undefined): string {
  return v === null || v === undefined ? "–" : `${Math.round(v * 100)}%`;
}

export function messageLink(gln: string, letterId: string, text: string = letterId): HTMLElement {
  return h("a", { href: `#/message/${encodeURIComponent(gln)}/${encodeURIComponent(letterId)}` }, text);
}

// Reads a form's named controls into a plain object.
export function formValues(form: HTMLFormElement): Record<string, string> {
  const out: Record<string, string> = {};
  new FormData(form).forEach((v, k) => (out[k] = String(v).trim()));
  return out;
}

// Replaces an element's content; null and false children are left out.
export function fill(root: HTMLElement, ...children: (Child | Child[])[]): void {
  root.replaceChildren(h("div", { class: "page" }, ...children));
}
