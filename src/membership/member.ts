// A member of the membership, as discovery gives it and as dyshard follows it. Types only.

/** What discovery knows of one upstream. */
export interface MemberSpec {
  slot: number;
  url: string;
  retired?: boolean;
  /** Discovery's verdict (static upstreams: always true) and why. */
  discoveryHealthy?: boolean;
  discoveryReason?: string;
}

export interface Member {
  slot: number;
  url: string;
  retired: boolean;
  discoveryHealthy: boolean;
  /** dyshard's own view: false after failing active checks or a refused/reset connection. */
  checksHealthy: boolean;
  healthy: boolean;
  /** Epoch ms of the last health change (or of joining). */
  since: number;
  /** Why the member is in its current state. */
  reason: string;
}

export interface HealthChange {
  member: Member;
  healthy: boolean;
  reason: string;
}

/** A member's health at a moment (the status page's history). */
export interface HealthEvent {
  /** ISO time of the change (of joining, for the first). */
  at: string;
  healthy: boolean;
  reason: string;
}
