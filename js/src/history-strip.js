// @ts-check
// The history strip: a thumbnail per generation, newest first. One tab stop; arrows, Home and End
// move inside it, Enter shows an entry again with its settings, Delete (or its ×) removes it.

import { h, listen, onAbort } from "./dom.js";
import { indexAfterRemoval } from "./format.js";
import { current, watch } from "./observe.js";

/** @typedef {import("./types.js").Model} Model */
/** @typedef {ReturnType<typeof import("./entries.js").createEntries>} Entries */

/**
 * @param {{ model: Model, entries: Entries, signal: AbortSignal }} props
 */
export function createHistoryStrip({ model, entries, signal }) {
  const list = h("ul", { className: "flux-history", "@role": "list", "@aria-label": "History" });
  // Shading at either end says there is more to scroll.
  const node = h("div", { className: "flux-history-strip" }, [list]);
  /** @type {number | null} the entry that is the list's one tab stop, once the arrows chose one */
  let rovingIndex = null;
  /** @type {number | null} the entry to focus once the list is drawn again */
  let pendingFocus = null;

  const markScroll = () => {
    const { scrollLeft, scrollWidth, clientWidth } = list;
    node.classList.toggle("flux-more-before", scrollLeft > 1);
    node.classList.toggle("flux-more-after", scrollLeft + clientWidth < scrollWidth - 1);
  };
  listen(list, "scroll", markScroll, signal);
  const resizes = typeof ResizeObserver === "undefined" ? null : new ResizeObserver(markScroll);
  resizes?.observe(list);
  onAbort(signal, () => resizes?.disconnect());

  /** @param {Element} element */
  const indexOf = (element) => Number(/** @type {HTMLElement} */ (element.closest("[data-index]")).dataset.index);
  const buttons = () => [...list.querySelectorAll(".flux-history-button")];

  listen(list, "click", (event) => {
    const item = event.target.closest("[data-index]");
    if (item) model.send({ type: event.target.closest(".flux-remove") ? "remove" : "select", index: indexOf(item) });
  }, signal);
  listen(list, "keydown", (event) => {
    const all = buttons();
    const at = all.indexOf(event.target.closest(".flux-history-button"));
    if (at < 0) return;
    /** @type {Record<string, number>} */
    const moves = { ArrowRight: at + 1, ArrowDown: at + 1, ArrowLeft: at - 1, ArrowUp: at - 1, Home: 0, End: all.length - 1 };
    if (event.key in moves) {
      event.preventDefault();
      const next = /** @type {HTMLButtonElement} */ (all[Math.max(0, Math.min(all.length - 1, moves[event.key]))]);
      rovingIndex = indexOf(next);
      for (const button of all) /** @type {HTMLButtonElement} */ (button).tabIndex = button === next ? 0 : -1;
      next.focus();
    } else if (event.key === "Delete" || event.key === "Backspace") {
      event.preventDefault();
      // Indexes after the removed one shift down by one once Python has removed it.
      pendingFocus = indexAfterRemoval(all.map(indexOf), at);
      rovingIndex = pendingFocus;
      model.send({ type: "remove", index: indexOf(all[at]) });
    }
  }, signal);

  const draw = () => {
    const resolved = entries.list();
    const shown = current(model).index;
    /** @param {number | null | undefined} index */
    const valid = (index) => index != null && index >= 0 && index < resolved.length && resolved[index] != null;
    const tabStop = valid(rovingIndex) ? rovingIndex : valid(shown) ? shown : resolved.length - 1;
    const items = resolved.flatMap((entry, index) => {
      if (!entry) return [];
      const label = `${entry.prompt} (seed ${entry.seed}, ${entry.width}×${entry.height})`;
      const thumb = h("img", { className: "flux-thumb", src: entry.thumbnail || "", alt: entry.prompt });
      const button = h("button", { type: "button", className: "flux-history-button", title: label, "@aria-label": label }, [thumb]);
      button.tabIndex = index === tabStop ? 0 : -1;
      const remove = h("button", { type: "button", className: "flux-remove", textContent: "×", tabIndex: -1, "@aria-label": `Remove ${entry.prompt}` });
      const item = h("li", { className: "flux-history-item", "@role": "listitem" }, [button, remove]);
      item.dataset.index = String(index);
      item.setAttribute("aria-current", String(index === shown));
      return [item];
    });
    list.replaceChildren(...items.reverse());
    list.hidden = items.length === 0;
    markScroll();
    if (pendingFocus != null) {
      /** @type {HTMLElement | null} */ (list.querySelector(`[data-index="${pendingFocus}"] .flux-history-button`))?.focus();
      pendingFocus = null;
    }
  };

  // The entry on show is marked; until the arrows choose another, it is the list's tab stop.
  watch(model, ["current"], () => {
    const shown = current(model).index;
    for (const item of list.querySelectorAll("[data-index]")) {
      const isShown = indexOf(item) === shown;
      item.setAttribute("aria-current", String(isShown));
      const button = /** @type {HTMLButtonElement | null} */ (item.querySelector(".flux-history-button"));
      if (rovingIndex == null && shown != null && button) button.tabIndex = isShown ? 0 : -1;
    }
  }, signal);
  entries.subscribe(draw);

  return { node };
}
