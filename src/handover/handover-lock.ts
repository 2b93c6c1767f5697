// One dyshard at a time runs the handover where several share a discovery source (with Consul:
// ./consul-lock.ts). Types only.

export interface HandoverLock {
  tryAcquire(): Promise<boolean>;
  release(): Promise<void>;
}
