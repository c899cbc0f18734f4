// @ts-check
// How the job is doing: the progress bar and its line, the error box (with the quota countdown and
// Retry), the notice shown when no kernel answers, and the announcements for screen readers.

import { h, listen, onAbort } from "./dom.js";
import { isBusy } from "./state.js";
import { clock, describeStatus, NOT_CONNECTED, outcomeText } from "./text.js";
import { current, onLost, tell, watch } from "./observe.js";

/** @typedef {import("./types.js").Model} Model */

/** A live kernel answers a request at once; after this long, the widget says none holds it. */
const DISCONNECTED_AFTER_MS = 4000;


/** How long a note ("Set: seed 3 …") stays in view. */
const NOTE_FOR_MS = 6000;

/**
 * @param {{
 *   model: Model, signal: AbortSignal, onRetry: () => void, onDismiss: () => void,
 *   onWait: (seconds: number, text: string) => void,
 * }} props
 */
export function createStatus({ model, signal, onRetry, onDismiss, onWait }) {
  const fill = h("div", { className: "flux-progress-fill" });
  const bar = h(
    "div",
    { className: "flux-progress", "@role": "progressbar", "@aria-label": "Generation progress", "@aria-valuemin": "0", "@aria-valuemax": "100" },
    [fill],
  );
  const line = h("span", { className: "flux-status-text", "@aria-live": "polite" });
  const row = h("div", { className: "flux-status" }, [bar, line]);
  const errorText = h("span", { className: "flux-error-text" });
  const dismiss = h("button", { type: "button", className: "flux-link flux-dismiss", textContent: "Dismiss", "@aria-label": "Dismiss error" });
  // After a quota error: a countdown from the Space's "try again in", then Retry.
  const retryText = h("span", { className: "flux-retry-text" });
  const retryButton = h("button", { type: "button", className: "flux-link flux-retry", textContent: "Retry" });
  const retryRow = h("span", { className: "flux-retry" }, [retryText, retryButton]);
  const errorBox = h("div", { className: "flux-error", "@role": "alert" }, [
    h("span", { className: "flux-error-body" }, [errorText, retryRow]),
    dismiss,
  ]);
  const noticeText = h("span", { className: "flux-notice-text" });
  const noticeDismiss = h("button", { type: "button", className: "flux-link flux-dismiss", textContent: "Dismiss", "@aria-label": "Dismiss notice" });
  const notice = h("div", { className: "flux-notice", "@role": "alert" }, [noticeText, noticeDismiss]);
  notice.hidden = true;
  const showDisconnected = () => {
    noticeText.textContent = NOT_CONNECTED;
    notice.hidden = false;
  };
  listen(noticeDismiss, "click", () => {
    notice.hidden = true;
    onDismiss();
  }, signal);
  onLost(model, showDisconnected, signal);
  // Always present (the status row hides when idle), so outcomes are announced to screen readers.
  const announcer = h("div", { className: "flux-offscreen", "@aria-live": "polite", "@role": "status" });
  // What an action did, in view for a moment ("Set: seed 3 · 1024×1024 …").
  const infoText = h("span", { className: "flux-info-text" });
  const infoAction = h("button", { type: "button", className: "flux-link flux-info-action" });
  infoAction.hidden = true;
  const info = h("div", { className: "flux-info" }, [infoText, infoAction]);
  info.hidden = true;
  /** @type {(() => void) | null} what the note's button does */
  let onInfoAction = null;
  listen(infoAction, "click", () => {
    info.hidden = true;
    onInfoAction?.();
  }, signal);
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let infoTimer;

  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let answerTimer;
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let retryTimer;
  onAbort(signal, () => {
    clearTimeout(answerTimer);
    clearInterval(retryTimer);
    clearTimeout(infoTimer);
  });
  /**
   * Say what an action did: in view for a few seconds, and to screen readers; with `action`, a
   * button that undoes or completes it (`onAction`), in view twice as long.
   * @param {string} text
   * @param {string} [action]
   * @param {() => void} [onAction]
   */
  const say = (text, action = "", onAction = () => {}) => {
    infoText.textContent = text;
    infoAction.textContent = action;
    infoAction.hidden = !action;
    onInfoAction = action ? onAction : null;
    info.hidden = false;
    announcer.textContent = action ? `${text} ${action}.` : text;
    clearTimeout(infoTimer);
    infoTimer = setTimeout(() => {
      info.hidden = true;
    }, action ? 2 * NOTE_FOR_MS : NOTE_FOR_MS);
  };
  let lastStatus = model.get("status");
  let announcedIndex = current(model).index;

  listen(dismiss, "click", () => {
    tell(model, { type: "dismiss" });
    onDismiss();
  }, signal);
  listen(retryButton, "click", onRetry, signal);

  watch(model, ["status", "queue_position", "eta", "step", "total_steps", "progress", "error", "batch_size", "batch_done", "detail"], () => {
    const status = model.get("status");
    const busy = isBusy(status);
    const wasBusy = isBusy(lastStatus);
    if (status !== "idle" || wasBusy) {
      notice.hidden = true; // the kernel answered
      clearTimeout(answerTimer);
    }
    if (wasBusy && !busy) {
      const shown = current(model).index;
      const outcome = outcomeText({
        status, batch_size: model.get("batch_size"), batch_done: model.get("batch_done"),
        newImage: shown != null && shown !== announcedIndex,
      });
      announcer.textContent = outcome;
      if (outcome.startsWith("Cancelled")) say(outcome); // shown too: no image says it
      announcedIndex = shown;
    }
    lastStatus = status;
    row.classList.toggle("flux-gone", !busy); // its room kept: the image below never moves
    line.textContent = describeStatus({
      status,
      queue_position: model.get("queue_position"),
      eta: model.get("eta"),
      step: model.get("step"),
      total_steps: model.get("total_steps"),
      batch_size: model.get("batch_size"),
      batch_done: model.get("batch_done"),
      detail: model.get("detail"),
    });
    const percent = Math.round(model.get("progress") * 100);
    bar.classList.toggle("flux-indeterminate", status === "queued" || (busy && !model.get("total_steps")));
    bar.setAttribute("aria-valuenow", String(percent));
    fill.style.width = `${percent}%`;
    errorText.textContent = model.get("error");
    errorBox.hidden = !model.get("error");
  }, signal);

  // The quota countdown: "Try again in 12:31", then Retry is enabled.
  // Dismissing the error does not lift the wait: Generate waits until the quota is back, and the
  // wait is said once, in the box while it shows, else beside Generate.
  const tickRetry = () => {
    const at = model.get("retry_at");
    const left = at == null ? 0 : at - Date.now() / 1000;
    retryRow.hidden = at == null || !model.get("error");
    retryText.textContent = left > 0 ? `Try again in ${clock(left)}` : "You can try again now.";
    retryButton.disabled = left > 0;
    onWait(Math.max(0, left), left > 0 && retryRow.hidden ? `The Space's quota comes back in ${clock(left)}` : "");
    if (left <= 0) {
      clearInterval(retryTimer);
      retryTimer = undefined;
    }
  };
  watch(model, ["retry_at", "error"], () => {
    clearInterval(retryTimer);
    retryTimer = setInterval(tickRetry, 1000);
    tickRetry();
  }, signal);

  return {
    /** In the widget's order: the progress row, the error box, the notice, the note of the last action. */
    nodes: [row, errorBox, notice, info],
    announcer,
    say,
    /** A request was sent: if the kernel does not answer, say that no running kernel holds the widget. */
    expectAnswer() {
      clearTimeout(answerTimer);
      const before = model.get("status");
      answerTimer = setTimeout(() => {
        if (model.get("status") === before && !isBusy(before)) showDisconnected();
      }, DISCONNECTED_AFTER_MS);
    },
  };
}
