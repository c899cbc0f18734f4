// @ts-check
// The history's search reaching past the history: with a `save_to` folder, the kernel is asked how
// many of the folder's images beyond those in the history pass the filters (a widget shows only the
// newest of a large folder), and "Show them" brings those into the history, at its oldest end, where
// the filters then find them. The stars are the history's own: "Starred" asks nothing of the folder.

import { h, listen, onAbort } from "./dom.js";
import { tell } from "./observe.js";
import { plural } from "./text.js";

/** @typedef {import("./types.js").Model} Model */
/** @typedef {ReturnType<typeof import("./requests.js").createRequests>} Requests */
/** @typedef {{ query: string, size: string, model: string }} Wanted */

/** Typing settles for this long before the folder is asked. */
export const ASK_AFTER_MS = 300;

/**
 * @param {{ model: Model, requests: Requests, signal: AbortSignal }} props
 */
export function createFolderSearch({ model, requests, signal }) {
  const count = h("span", { className: "flux-folder-count" });
  const show = h("button", { type: "button", className: "flux-link flux-folder-show", textContent: "Show them" });
  const node = h("p", { className: "flux-folder-found", "@role": "status" }, [count, " ", show]);
  node.hidden = true;
  /** @type {Wanted | null} what was asked last, and the history's length then */
  let asked = null;
  let askedFor = -1;
  let ticket = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  onAbort(signal, () => clearTimeout(timer));
  listen(show, "click", () => {
    if (!asked) return;
    tell(model, { type: "show_found", ...asked });
    show.disabled = true;
    count.textContent = "Reading the folder…";
  }, signal);

  return {
    node,
    /**
     * The filters changed, or the history: ask the folder again (once typing settles) if they narrow anything down.
     * @param {Wanted & { starredOnly: boolean }} filter
     * @param {number} held How many entries the history holds.
     */
    update({ query, size, model: wantedModel, starredOnly }, held) {
      const wanted = { query, size, model: wantedModel };
      const narrows = Boolean(model.get("save_to") && !starredOnly && (query.trim() || size || wantedModel));
      if (!narrows) {
        clearTimeout(timer);
        asked = null;
        ticket++;
        node.hidden = true;
        return;
      }
      if (asked && held === askedFor && JSON.stringify(asked) === JSON.stringify(wanted)) return;
      asked = wanted;
      askedFor = held;
      const mine = ++ticket;
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const answer = await requests.ask({ type: "find", ...wanted });
        if (mine !== ticket) return;
        const found = Number(answer?.content.count) || 0;
        node.hidden = found === 0;
        count.textContent = `${plural(found, "more image")} in the folder`;
        show.disabled = false;
      }, ASK_AFTER_MS);
    },
  };
}
