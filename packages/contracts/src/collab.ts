// What the /collab protocol says beyond y-protocols, shared by the sync service and the web
// client. Kept free of the schema library: the editor screens load it.

/**
 * The reason of the y-protocols permission-denied message sync sends when it drops an update
 * from someone who may only read. Unlike a refusal before the close of a connection, the
 * connection stays open: the web client recognises it by `isReadOnlyRefusal` and keeps the
 * edits on the device.
 */
export const READ_ONLY_REFUSAL = "read-only: your changes are not saved";

export function isReadOnlyRefusal(reason: string): boolean {
  return /read-only/i.test(reason);
}
