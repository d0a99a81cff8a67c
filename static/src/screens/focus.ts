/**
 * Redrawing a live list or panel must not drop the keyboard focus: controls carry a
 * `data-control` name (and sit in an element with an id when there are many alike), by which
 * the focus is given back after the redraw.
 */
export function keepFocus(container: HTMLElement, redraw: () => void): void {
  const active = document.activeElement;
  const inside = active instanceof HTMLElement && container.contains(active) ? active : null;
  const control = inside?.dataset.control;
  const owner = inside?.closest<HTMLElement>("[id]");
  const ownerId = owner && container.contains(owner) ? owner.id : null;
  redraw();
  // The same element put back (a form kept across redraws): it keeps the focus as it was.
  if (inside?.isConnected) {
    if (document.activeElement !== inside) inside.focus();
    return;
  }
  if (!control) return;
  const scope = ownerId ? document.getElementById(ownerId) : container;
  const controls = scope?.querySelectorAll<HTMLElement>("[data-control]") ?? [];
  [...controls].find((element) => element.dataset.control === control)?.focus();
}
