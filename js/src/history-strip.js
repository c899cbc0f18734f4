// @ts-check
// The history strip: a thumbnail per generation, newest run first (a batch in its own order; see
// `shownOrder`), under a header with Download all.
// One tab stop; arrows, Home and End move inside it, Enter shows an entry again with its settings,
// Delete (or its ×, shown on hover, on focus and always on touch screens) removes it, and a
// "Removed · Undo" notice puts it back for a few seconds (Ctrl+Z or ⌘+Z in the strip too;
// `w.restore()` at any time).

import { h, listen, onAbort } from "./dom.js";
import { createDownloadAll } from "./download-all.js";
import { indexAfterRemoval, shownOrder } from "./state.js";
import { plural } from "./text.js";
import { createHistoryFilter, passes } from "./history-filter.js";
import { current, setTraits, tell, watch } from "./observe.js";

/** @typedef {import("./types.js").Model} Model */
/** @typedef {ReturnType<typeof import("./entries.js").createEntries>} Entries */
/** @typedef {ReturnType<typeof import("./requests.js").createRequests>} Requests */

/** How long the Undo notice stays. */
export const UNDO_FOR_MS = 8000;

/**
 * @param {{ model: Model, entries: Entries, requests: Requests, signal: AbortSignal, onEmpty: () => void, onSelect: (index: number) => void }} props
 *   `onSelect` shows an entry with its settings.
 */
export function createHistoryStrip({ model, entries, requests, signal, onEmpty, onSelect }) {
  const list = h("ul", { className: "flux-history", "@role": "list", "@aria-label": "History" });
  const count = h("span", { className: "flux-history-count" });
  const downloadAll = createDownloadAll({ requests, signal, say: (text) => { count.textContent = text; } }).node;
  const undoText = h("span", { textContent: "Removed" });
  const undo = h("button", { type: "button", className: "flux-link flux-undo", textContent: "Undo" });
  const undoNotice = h("span", { className: "flux-undo-notice", "@role": "status" }, [undoText, " · ", undo]);
  undoNotice.hidden = true;
  const filter = createHistoryFilter({ model, requests, signal, onChange: () => draw() });
  const header = h("div", { className: "flux-history-header" }, [count, undoNotice, downloadAll]);
  // Shading at either end says there is more to scroll.
  const scroller = h("div", { className: "flux-history-scroller" }, [list]);
  const node = h("div", { className: "flux-history-strip" }, [header, filter.node, scroller]);
  /** @type {number | null} the entry that is the list's one tab stop, once the arrows chose one */
  let rovingIndex = null;
  /** @type {number | null} the entry to focus once the list is drawn again */
  let pendingFocus = null;
  let focusPromptIfEmpty = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let undoTimer;
  /** @type {number | null} where the last removed entry was */
  let removedAt = null;
  onAbort(signal, () => clearTimeout(undoTimer));

  const markScroll = shadeWhenMore(list, scroller, signal);

  /** @param {Element} element */
  const indexOf = (element) => Number(/** @type {HTMLElement} */ (element.closest("[data-index]")).dataset.index);
  const buttons = () => [...list.querySelectorAll(".flux-history-button")];

  /** Remove the entry at place `at` of the shown buttons; focus goes to its neighbour (or the prompt). */
  const remove = (/** @type {number} */ at) => {
    const all = buttons();
    // Indexes after the removed one shift down by one once Python has removed it.
    pendingFocus = indexAfterRemoval(all.map(indexOf), at);
    focusPromptIfEmpty = pendingFocus == null;
    rovingIndex = pendingFocus;
    removedAt = indexOf(all[at]);
    tell(model, { type: "remove", index: removedAt });
    undoText.textContent = `Removed “${entries.list()[removedAt]?.prompt || "image"}”`;
    undoNotice.hidden = false;
    clearTimeout(undoTimer);
    undoTimer = setTimeout(() => {
      undoNotice.hidden = true;
    }, UNDO_FOR_MS);
  };

  /** Star or unstar entry `index` (its reference in `history` is what the `starred` trait keeps). */
  const toggleStar = (/** @type {number} */ index) => {
    const ref = String((model.get("history") || [])[index] ?? "");
    const starred = model.get("starred") || [];
    setTraits(model, { starred: starred.includes(ref) ? starred.filter((other) => other !== ref) : [...starred, ref] });
  };
  listen(list, "click", (event) => {
    const item = event.target.closest("[data-index]");
    if (!item) return;
    if (event.target.closest(".flux-star")) toggleStar(indexOf(item));
    else if (event.target.closest(".flux-remove")) remove(buttons().indexOf(/** @type {Element} */ (item.querySelector(".flux-history-button"))));
    else onSelect(indexOf(item));
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
    } else if (event.key === "Delete") {
      event.preventDefault();
      remove(at);
    } else if (event.key.toLowerCase() === "s" && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      toggleStar(indexOf(all[at])); // S stars (or unstars) the focused image
    } else if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z" && !undoNotice.hidden) {
      event.preventDefault();
      undo.click(); // Ctrl+Z (⌘+Z) while the Undo notice shows
    }
  }, signal);
  listen(undo, "click", () => {
    clearTimeout(undoTimer);
    undoNotice.hidden = true;
    pendingFocus = removedAt; // the restored entry comes back where it was
    rovingIndex = removedAt;
    tell(model, { type: "restore" });
  }, signal);
  const draw = () => {
    const resolved = entries.list();
    const shown = current(model).index;
    /** @param {number | null | undefined} index */
    const valid = (index) => index != null && index >= 0 && index < resolved.length && resolved[index] != null;
    const tabStop = valid(rovingIndex) ? rovingIndex : valid(shown) ? shown : resolved.length - 1;
    const refs = model.get("history") || [];
    const starred = new Set(model.get("starred") || []);
    const isStarred = (/** @type {number} */ index) => starred.has(String(refs[index] ?? ""));
    filter.offer(resolved.flatMap((entry) => (entry ? [entry] : [])));
    const wanted = filter.current();
    const all = shownOrder(resolved);
    const items = all.flatMap((index) => {
      const entry = resolved[index];
      if (!entry || !passes(entry, { ...wanted, starred: isStarred(index) })) return [];
      return [historyItem(entry, index, { tabStop: index === tabStop, shown: index === shown, starred: isStarred(index) })];
    });
    const hadFocus = node.contains(document.activeElement);
    list.replaceChildren(...items);
    const total = items.length;
    header.hidden = all.length === 0 && undoNotice.hidden;
    list.hidden = total === 0;
    const found = filter.active() ? `${total} of ${all.length} images` : `${total} image${total === 1 ? "" : "s"}`;
    count.textContent = all.length ? `History · ${found}` : "";
    filter.node.hidden = all.length < 2;
    downloadAll.hidden = all.length === 0;
    markScroll();
    if (pendingFocus != null) {
      /** @type {HTMLElement | null} */ (list.querySelector(`[data-index="${pendingFocus}"] .flux-history-button`))?.focus();
      pendingFocus = null;
    } else if (focusPromptIfEmpty && total === 0) {
      onEmpty(); // nothing left to focus in the strip
    } else if (hadFocus && !node.contains(document.activeElement) && total) {
      /** @type {HTMLElement | null} */ (list.querySelector('.flux-history-button[tabindex="0"]'))?.focus();
    }
    focusPromptIfEmpty = false;
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
  watch(model, ["starred"], draw, signal);

  return { node };
}

/**
 * One thumbnail of the strip: its button (the roving tab stop when `tabStop`), its star and its ×.
 * @param {import("./types.js").Entry} entry
 * @param {number} index Its place in the history.
 * @param {{ tabStop: boolean, shown: boolean, starred: boolean }} state
 */
function historyItem(entry, index, { tabStop, shown, starred }) {
  const from = entry.inputs?.length ? `, from ${plural(entry.inputs.length, "image")}` : "";
  const label = `${entry.prompt} (seed ${entry.seed}, ${entry.width}×${entry.height}${from})`;
  const thumb = h("img", { className: "flux-thumb", src: entry.thumbnail || "", alt: entry.prompt });
  const button = h("button", { type: "button", className: "flux-history-button", title: label, "@aria-label": label }, [thumb]);
  button.tabIndex = tabStop ? 0 : -1;
  const removeButton = h("button", { type: "button", className: "flux-remove", textContent: "×", tabIndex: -1, "@aria-label": `Remove ${entry.prompt}` });
  const star = h("button", { type: "button", className: "flux-star", textContent: starred ? "★" : "☆", tabIndex: -1, "@aria-label": `Star ${entry.prompt}`, "@aria-pressed": String(starred) });
  const item = h("li", { className: "flux-history-item", "@role": "listitem" }, [button, star, removeButton]);
  item.dataset.index = String(index);
  item.setAttribute("aria-current", String(shown));
  return item;
}

/**
 * Shading at either end of `scroller` while `list` has more to scroll that way; the function that
 * marks it again (after a redraw).
 * @param {HTMLElement} list
 * @param {HTMLElement} scroller
 * @param {AbortSignal} signal
 */
function shadeWhenMore(list, scroller, signal) {
  const mark = () => {
    const { scrollLeft, scrollWidth, clientWidth } = list;
    scroller.classList.toggle("flux-more-before", scrollLeft > 1);
    scroller.classList.toggle("flux-more-after", scrollLeft + clientWidth < scrollWidth - 1);
  };
  listen(list, "scroll", mark, signal);
  const resizes = typeof ResizeObserver === "undefined" ? null : new ResizeObserver(mark);
  resizes?.observe(list);
  onAbort(signal, () => resizes?.disconnect());
  return mark;
}
