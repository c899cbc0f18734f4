// @ts-check
// Download all: one button that asks the kernel for the whole history as one zip (made there, with
// each file's parameters inside) and saves it. It owns its button, its wait and its object URL.

import { h, listen } from "./dom.js";

/** @typedef {ReturnType<typeof import("./requests.js").createRequests>} Requests */

/** Making a zip of a long history takes a while; past this, the kernel is taken to be gone. */
export const ZIP_WITHIN_MS = 60_000;

/**
 * @param {{ requests: Requests, signal: AbortSignal, say: (text: string) => void }} props
 *   `say` tells why there is no zip (no running kernel).
 */
export function createDownloadAll({ requests, signal, say }) {
  const node = h("button", { type: "button", className: "flux-link flux-download-all", textContent: "Download all" });
  listen(node, "click", async () => {
    node.disabled = true;
    node.textContent = "Making the zip…";
    const answer = await requests.ask({ type: "zip" }, ZIP_WITHIN_MS);
    node.disabled = false;
    node.textContent = "Download all";
    const bytes = answer?.buffers[0];
    if (!answer || !bytes) {
      say("Download all needs the running kernel.");
      return;
    }
    const url = URL.createObjectURL(new Blob([bytes], { type: "application/zip" }));
    const link = h("a", { href: url, download: String(answer.content.name || "flux-images.zip") });
    node.after(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), ZIP_WITHIN_MS);
  }, signal);
  return { node };
}
