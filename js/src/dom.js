// @ts-check
// Small DOM helpers shared by the components.

/**
 * Create an element with properties, attributes (keys prefixed "@") and children.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, any>} [props]
 * @param {(Node | string)[]} [children]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key.startsWith("@")) node.setAttribute(key.slice(1), value);
    else /** @type {any} */ (node)[key] = value;
  }
  node.append(...children);
  return node;
}

/**
 * A labelled number input.
 * @param {string} label
 * @param {string} name
 * @param {number} min
 * @param {number} max
 * @param {number} step
 */
export function numberField(label, name, min, max, step) {
  const input = h("input", { type: "number", min, max, step, className: "flux-input", name });
  const field = h("label", { className: "flux-field" }, [h("span", { className: "flux-label", textContent: label }), input]);
  return { field, input };
}

/**
 * `addEventListener`, removed when `signal` aborts.
 * @param {EventTarget} target
 * @param {string} type
 * @param {(event: any) => void} handler
 * @param {AbortSignal} signal
 * @param {boolean} [capture]
 */
export function listen(target, type, handler, signal, capture = false) {
  target.addEventListener(type, handler, { signal, capture });
}

/**
 * Run `cleanup` when `signal` aborts (timers, object URLs, observers).
 * @param {AbortSignal} signal
 * @param {() => void} cleanup
 */
export function onAbort(signal, cleanup) {
  signal.addEventListener("abort", cleanup, { once: true });
}

/**
 * Set a button's text for a moment (1.5 s), then back to its label; a new flash on the same button
 * replaces the last, and each button has its own timer.
 * @param {AbortSignal} signal
 */
export function flasher(signal) {
  /** @type {Map<HTMLElement, ReturnType<typeof setTimeout>>} */
  const timers = new Map();
  onAbort(signal, () => {
    for (const timer of timers.values()) clearTimeout(timer);
  });
  /**
   * @param {HTMLElement[]} buttons What goes back to its label (`data-label`) afterwards.
   * @param {HTMLElement} button
   * @param {string} text
   */
  return (buttons, button, text) => {
    button.textContent = text;
    clearTimeout(timers.get(button));
    timers.set(button, setTimeout(() => {
      timers.delete(button);
      for (const node of buttons) node.textContent = node.dataset.label || "";
    }, 1500));
  };
}

/**
 * Copy text, falling back to a hidden textarea where the clipboard API is unavailable (VS Code).
 * @param {string} text
 * @param {HTMLElement} root Where the textarea may go for a moment.
 */
export async function copyText(text, root) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = h("textarea", { value: text, className: "flux-offscreen", readOnly: true });
    root.append(area);
    area.select();
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch {
      copied = false;
    }
    area.remove();
    return copied;
  }
}

/**
 * Put the shown image on the clipboard as PNG; the text a button should say afterwards.
 * @param {HTMLImageElement} img
 */
export async function copyPicture(img) {
  if (!navigator.clipboard?.write || typeof ClipboardItem === "undefined") return "Copy not allowed here";
  // The PNG is made in a promise handed to ClipboardItem, so the click still counts as the user's.
  const png = new Promise((resolve, reject) => {
    const canvas = document.createElement("canvas");
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    canvas.getContext("2d")?.drawImage(img, 0, 0);
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("no PNG"))), "image/png");
  });
  try {
    await navigator.clipboard.write([new ClipboardItem({ "image/png": png })]);
    return "Copied";
  } catch {
    return "Copy not allowed here";
  }
}

/**
 * A button that holds its resting label in `data-label` (for {@link flasher}).
 * @param {string} className
 * @param {string} label
 */
export function labelledButton(className, label) {
  const button = h("button", { type: "button", className, textContent: label });
  button.dataset.label = label;
  return button;
}
