// @ts-check
// The reference tray, above the prompt: the images an edit starts from, each a thumbnail with its
// label and a remove button, and "Add image…" (a file picker reached by keyboard). Files dropped on
// the widget or pasted into the prompt come here too. The bytes go to the kernel as binary buffers
// and stay there; the tray shows what the kernel says it holds (`references`), and how many the
// backend takes ("2 of 4"). A backend that takes no images (or has not said yet) shows no tray.

import { h, labelledButton, listen } from "./dom.js";
import { tell, watch } from "./observe.js";
import { trayCount } from "./text.js";

/** @typedef {import("./types.js").Model} Model */

/** The largest file sent to the kernel (the kernel refuses larger ones too, with a clear error). */
export const MAX_FILE_BYTES = 20 * 1024 * 1024;

/**
 * @param {{ model: Model, signal: AbortSignal, onSay: (text: string) => void }} props
 */
export function createReferenceTray({ model, signal, onSay }) {
  const list = h("ul", { className: "flux-tray-list", "@aria-label": "Reference images" });
  const count = h("span", { className: "flux-tray-count", "@aria-live": "polite" });
  const picker = /** @type {HTMLInputElement} */ (h("input", { type: "file", accept: "image/*", className: "flux-tray-picker" }));
  picker.multiple = true;
  picker.hidden = true;
  const add = labelledButton("flux-link flux-tray-add", "Add image…");
  const head = h("div", { className: "flux-tray-head" }, [h("span", { className: "flux-label", textContent: "Reference images" }), count, add]);
  const node = h("div", { className: "flux-tray" }, [head, list, picker]);

  /** @param {Iterable<File>} files */
  const addFiles = async (files) => {
    for (const file of files) {
      if (!file.type.startsWith("image/")) {
        onSay(`${file.name || "That file"} is not an image.`);
        continue;
      }
      if (file.size > MAX_FILE_BYTES) {
        onSay(`${file.name || "That image"} is larger than 20 MB.`);
        continue;
      }
      tell(model, { type: "add_image", name: file.name || "pasted image" }, [await file.arrayBuffer()]);
    }
  };

  const draw = () => {
    const items = model.get("references") || [];
    const most = model.get("max_references");
    node.hidden = !most && !items.length; // unknown or text only: no tray, and no jump when it is learnt
    count.textContent = trayCount(items.length, most);
    list.hidden = !items.length;
    list.replaceChildren(...items.map((item, at) => {
      const label = `${at + 1} · ${item.name}`;
      const remove = labelledButton("flux-tray-remove", "×");
      remove.setAttribute("aria-label", `Remove reference ${label}`);
      listen(remove, "click", () => tell(model, { type: "remove_image", index: at }), signal);
      return h("li", { className: "flux-tray-item" }, [
        h("img", { className: "flux-tray-thumb", src: item.thumbnail || "", alt: item.name, width: 48, height: 48 }),
        h("span", { className: "flux-tray-label", textContent: label }),
        remove,
      ]);
    }));
    add.disabled = most != null && items.length >= Math.max(most, 1);
  };

  listen(add, "click", () => picker.click(), signal);
  listen(picker, "change", () => {
    addFiles(Array.from(picker.files || []));
    picker.value = "";
  }, signal);
  watch(model, ["references", "max_references"], draw, signal);

  return { node, addFiles };
}
