// The console's shell: a hash router (#/page?filters), the login screen, the navigation.
// Every page reads the operators' API with server-side filters and paging; the URL holds the
// filters, so a view can be linked and reloaded.
import "./style.css";
import { ApiError, setToken, token } from "./api";
import { errorBox, h } from "./dom";
import { renderOverview } from "./pages/overview";
import { renderDeadlines } from "./pages/deadlines";
import { renderLateShare } from "./pages/late_share";
import { renderMessages, renderMessage } from "./pages/messages";
import { renderDeadLetters } from "./pages/dead_letters";

export type Params = URLSearchParams;
export type Cleanup = () => void;
type Page = (root: HTMLElement, params: Params, parts: string[]) => Promise<Cleanup | void>;

const pages: Record<string, { nav: string; render: Page }> = {
  "": { nav: "overview", render: renderOverview },
  deadlines: { nav: "deadlines", render: renderDeadlines },
  late: { nav: "late", render: renderLateShare },
  messages: { nav: "messages", render: renderMessages },
  message: { nav: "messages", render: renderMessage },
  "dead-letters": { nav: "dead-letters", render: renderDeadLetters },
};

let cleanup: Cleanup | void;
let generation = 0;

// Moves to a page with new filters (replaces the hash; the router renders).
export function go(page: string, query: Record<string, string> = {}): void {
  const q = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== ""));
  const s = q.toString();
  location.hash = `#/${page}${s ? "?" + s : ""}`;
}

function showWho(): void {
  const who = document.getElementById("who")!;
  who.replaceChildren(
    token() ? "signed in with a token " : "",
    token()
      ? h("button", { class: "link", id: "sign-out", onclick: () => { setToken(null); route(); } }, "sign out")
      : h("a", { href: "#/login" }, "sign in"),
  );
}

function renderLogin(root: HTMLElement, why: string): void {
  const tokenInput = h("input", { type: "password", name: "token", id: "token", autocomplete: "off", required: true });
  const form = h(
    "form",
    {
      class: "login",
      onsubmit: (e: Event) => {
        e.preventDefault();
        setToken(tokenInput.value.trim());
        if (location.hash.startsWith("#/login")) location.hash = "#/";
        else route();
      },
    },
    h("h1", {}, "Sign in"),
    h("p", {}, why),
    h("label", { class: "field" }, h("span", {}, "Operator token"), tokenInput),
    h("button", { type: "submit", id: "sign-in" }, "Sign in"),
    h("p", { class: "hint" }, "An operator certificate in the browser signs you in without a token."),
  );
  root.replaceChildren(form);
  tokenInput.focus();
}

export async function route(): Promise<void> {
  const mine = ++generation;
  if (cleanup) cleanup();
  cleanup = undefined;
  const root = document.getElementById("app")!;
  const hash = location.hash.replace(/^#\/?/, "");
  const [pathPart, queryPart = ""] = hash.split("?");
  const parts = pathPart.split("/").map(decodeURIComponent);
  const params = new URLSearchParams(queryPart);
  showWho();
  if (parts[0] === "login") {
    renderLogin(root, "The operators' API wants an operator's credentials.");
    return;
  }
  const page = pages[parts[0]] ?? pages[""];
  document.querySelectorAll<HTMLAnchorElement>("#nav a").forEach((a) =>
    a.classList.toggle("active", a.dataset.page === page.nav),
  );
  root.replaceChildren(h("p", { class: "loading" }, "Loading…"));
  try {
    const done = await page.render(root, params, parts);
    if (mine !== generation) {
      if (done) done();
      return;
    }
    cleanup = done;
  } catch (e) {
    if (mine !== generation) return;
    if (e instanceof ApiError && e.status === 401) {
      const hadToken = token() !== null;
      setToken(null);
      showWho();
      renderLogin(root, hadToken ? "That token was not accepted." : "The operators' API wants an operator's credentials.");
      return;
    }
    root.replaceChildren(errorBox(e));
  }
}

window.addEventListener("hashchange", () => void route());
void route();
