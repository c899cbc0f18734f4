// @ts-check
// Questions to the kernel that it answers with a custom message and a binary buffer: the full
// image of a history entry, the zip of the whole history. Each question carries a ticket of this
// view's own (every view of a widget hears every answer); no answer in time is `null`, which is
// what a notebook reopened without its kernel gets.

import { onAbort } from "./dom.js";
import { tell } from "./observe.js";

/** @typedef {import("./types.js").Model} Model */
/** @typedef {{ content: Record<string, any>, buffers: DataView<ArrayBuffer>[] }} Answer */

/** A live kernel answers at once; after this long the view stops waiting and says why. */
export const ANSWER_WITHIN_MS = 6000;

/**
 * @param {{ model: Model, signal: AbortSignal }} props
 */
export function createRequests({ model, signal }) {
  const prefix = Math.random().toString(36).slice(2);
  let count = 0;
  /** @type {Map<string, (answer: Answer | null) => void>} */
  const waiting = new Map();

  /** @param {any} content @param {DataView<ArrayBuffer>[]} [buffers] */
  const hear = (content, buffers) => {
    const answer = content && typeof content.ticket === "string" ? waiting.get(content.ticket) : undefined;
    if (!answer) return; // another view's, or one this view stopped waiting for
    waiting.delete(content.ticket);
    answer({ content, buffers: buffers || [] });
  };
  model.on("msg:custom", hear);
  onAbort(signal, () => {
    model.off("msg:custom", hear);
    for (const answer of waiting.values()) answer(null);
    waiting.clear();
  });

  return {
    /**
     * Send `content` with a ticket; the kernel's answer, or `null` if none comes within `within` ms.
     * @param {import("./types.js").ToKernel} content
     * @param {number} [within]
     * @returns {Promise<Answer | null>}
     */
    ask(content, within = ANSWER_WITHIN_MS) {
      const ticket = `${prefix}-${++count}`;
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(ticket);
          resolve(null);
        }, within);
        waiting.set(ticket, (answer) => {
          clearTimeout(timer);
          resolve(answer);
        });
        if (!tell(model, /** @type {any} */ ({ ...content, ticket }))) {
          clearTimeout(timer); // no kernel to ask: the answer is none, at once
          waiting.delete(ticket);
          resolve(null);
        }
      });
    },
  };
}
