// Short toasts with the detail behind a button (issue 16 item 8: a toast cut off mid-sentence,
// naming the command id "startRun", told the user little). Pure for node:test.

/** The longest toast text shown whole; VS Code cuts notifications at about this many characters. */
export const TOAST_MAX = 110;

/** "startRun" → "Start Run": what the palette calls the command, not its id. */
export function commandTitle(commandId: string): string {
  const name = commandId.replace(/^hyperat\./, "");
  return name.replace(/([a-z0-9])([A-Z])/g, "$1 $2").replace(/^./, (c) => c.toUpperCase());
}

/** A toast for `commandId` failing with `message`: a short line, and the full text when it was cut. */
export function errorToast(commandId: string, message: string): { text: string; detail?: string } {
  const head = `HyperAT ${commandTitle(commandId)} failed: `;
  const firstLine = message.split("\n")[0].trim();
  const full = head + firstLine;
  if (full.length <= TOAST_MAX && firstLine === message.trim()) return { text: full };
  const room = TOAST_MAX - head.length - 1;
  const cut = firstLine.length > room ? `${firstLine.slice(0, Math.max(0, firstLine.lastIndexOf(" ", room) > room / 2 ? firstLine.lastIndexOf(" ", room) : room))}…` : firstLine;
  return { text: head + cut, detail: message };
}
