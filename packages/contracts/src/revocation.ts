/**
 * A revoked session is marked in Redis for as long as an access token of it could still be
 * valid, so every gateway refuses it at once instead of waiting for the token to expire.
 */
export const revokedSessionKey = (sessionId: string) => `revoked:session:${sessionId}`;
