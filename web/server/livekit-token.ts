import { randomUUID } from 'node:crypto';
import { AccessToken, RoomAgentDispatch, RoomConfiguration, TrackSource } from 'livekit-server-sdk';

/** How long a token admits its holder to the room, in seconds (LiveKit refreshes it once joined). */
export const TOKEN_TTL_SECONDS = 10 * 60;

export interface RoomTokenOptions {
  apiKey: string;
  apiSecret: string;
  /** The worker's AGENT_NAME: it is dispatched explicitly through the room configuration. */
  agentName: string;
  /** The browser's identity: the participant identity, and the user the agent serves. */
  browserId: string;
}

export interface RoomToken {
  token: string;
  roomName: string;
  expiresAt: Date;
}

/**
 * A short-lived join token for a new room of its own, with the least the page needs:
 * join that one room, publish microphone and camera, send data (text and files),
 * subscribe to the agent. Creating the room dispatches the agent into it.
 */
export async function createRoomToken(options: RoomTokenOptions): Promise<RoomToken> {
  const roomName = `web-${randomUUID()}`;
  // The SDK counts the expiry from its own clock when signing, a moment after this.
  const issuedAt = Date.now();
  const token = new AccessToken(options.apiKey, options.apiSecret, {
    identity: options.browserId,
    ttl: TOKEN_TTL_SECONDS,
  });
  token.addGrant({
    roomJoin: true,
    room: roomName,
    canPublish: true,
    canPublishSources: [TrackSource.MICROPHONE, TrackSource.CAMERA],
    canPublishData: true,
    canSubscribe: true,
    canUpdateOwnMetadata: false,
  });
  token.roomConfig = new RoomConfiguration({
    agents: [
      new RoomAgentDispatch({
        agentName: options.agentName,
        // The worker reads the user from here (agent/participant-identity.ts).
        metadata: JSON.stringify({ userIdentity: `web:${options.browserId}` }),
      }),
    ],
    // Close the room soon after the person leaves: the conversation is over.
    departureTimeout: 20,
    emptyTimeout: 60,
  });
  return {
    token: await token.toJwt(),
    roomName,
    expiresAt: new Date(issuedAt + TOKEN_TTL_SECONDS * 1000),
  };
}
