/** The sealing of private signing keys at rest is shared with the history service's audit keys. */
export { KeyRing, type EncryptionKey } from "@palimpsest/platform";
