// @ts-check
// The queue: prompts pressed while a job runs, each waiting its turn, shown above the image with
// the settings they will run with. Each is one tab stop: Alt+↑/↓ moves it, Delete (or its Remove
// button) takes it out; Cancel all stops the running job and empties the queue.

import { h, listen } from "./dom.js";
import { settingsSummary } from "./text.js";
import { tell, watch } from "./observe.js";

/** @typedef {import("./types.js").Model} Model */

/**
 * @param {{ model: Model, signal: AbortSignal }} props
 */
export function createQueueList({ model, signal }) {
  const count = h("span", { className: "flux-queue-count" });
  const cancelAll = h("button", { type: "button", className: "flux-link flux-cancel-all", textContent: "Cancel all" });
  const list = h("ol", { className: "flux-queue", "@aria-label": "Queue" });
  const node = h("div", { className: "flux-queue-box" }, [h("div", { className: "flux-queue-header" }, [count, cancelAll]), list]);
  node.hidden = true;
  /** @type {number | null} the place to focus once the queue is drawn again */
  let focusAt = null;

  listen(cancelAll, "click", () => tell(model, { type: "cancel_all" }), signal);
  listen(list, "click", (event) => {
    const item = /** @type {HTMLElement | null} */ (event.target.closest("[data-place]"));
    if (item && event.target.closest(".flux-unqueue")) tell(model, { type: "unqueue", index: Number(item.dataset.place) });
  }, signal);
  listen(list, "keydown", (event) => {
    const item = /** @type {HTMLElement | null} */ (event.target.closest("[data-place]"));
    if (!item || event.target !== item) return;
    const place = Number(item.dataset.place);
    if (event.altKey && (event.key === "ArrowUp" || event.key === "ArrowDown")) {
      event.preventDefault();
      const by = event.key === "ArrowUp" ? -1 : 1;
      focusAt = Math.max(0, Math.min(model.get("queue").length - 1, place + by));
      tell(model, { type: "move", index: place, by });
    } else if (event.key === "Delete") {
      event.preventDefault();
      focusAt = place;
      tell(model, { type: "unqueue", index: place });
    }
  }, signal);

  watch(model, ["queue"], () => {
    const waiting = model.get("queue") || [];
    node.hidden = waiting.length === 0;
    count.textContent = `Queue · ${waiting.length} waiting`;
    const hadFocus = node.contains(document.activeElement);
    list.replaceChildren(...waiting.map((item, place) => {
      const settings = settingsSummary(item);
      const remove = h("button", { type: "button", className: "flux-link flux-unqueue", textContent: "Remove", tabIndex: -1, "@aria-label": `Remove from the queue: ${item.prompt}` });
      const row = h("li", { className: "flux-queue-item", tabIndex: 0, "@aria-label": `${place + 1}. ${item.prompt} · ${settings}` }, [
        h("bdi", { className: "flux-queue-prompt", textContent: item.prompt, dir: "auto" }),
        h("span", { className: "flux-queue-settings", textContent: settings }),
        remove,
      ]);
      row.dataset.place = String(place);
      return row;
    }));
    if (focusAt != null || hadFocus) {
      const rows = list.querySelectorAll("li");
      /** @type {HTMLElement | undefined} */ (rows[Math.min(focusAt ?? 0, rows.length - 1)])?.focus();
    }
    focusAt = null;
  }, signal);

  return { node };
}
