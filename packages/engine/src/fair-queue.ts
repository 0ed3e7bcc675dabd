/**
 * Who an engine job is for: the tenant (a project, or '' for the mesh's own work and mesh-wide
 * identities) and the caller within it (an API key, a client certificate).
 */
export interface FairnessKey {
  tenant: string;
  caller: string;
}

export const MESH_FAIRNESS_KEY: FairnessKey = { tenant: '', caller: '' };

/** How many tenants and callers the queue remembers the last turn of (least recently served forgotten first). */
const REMEMBERED_TURNS = 4096;

interface TenantLane<T> {
  /** FIFO lane per caller, in the order the callers queued. */
  callers: Map<string, T[]>;
  size: number;
}

/**
 * The engine's waiting room, fair between tenants and, within a tenant, between its callers.
 *
 * Each caller has a FIFO lane; the next job comes from the waiting tenant served least recently,
 * and within it from its caller served least recently (two-level round robin; every job, also one
 * that finds a worker free, takes its turn through `shift`). A tenant that floods the queue
 * therefore delays another tenant's job by at most one job of its own: the newcomer was served
 * longer ago, or never, than the tenant whose job has just started. Idle time earns no credit: a
 * tenant is only ever ahead of those served after it.
 *
 * Written here rather than taken from piscina: piscina moves every abortable task it cannot
 * place at once into an internal first-in first-out queue, so a custom piscina `taskQueue` never
 * sees most of them. The engine therefore keeps jobs here and gives piscina one only when a
 * worker is free. No npm package offers a keyed round-robin queue with removal and per-key counts.
 */
export class FairQueue<T> {
  private readonly tenants = new Map<string, TenantLane<T>>();
  /** Dispatch number at which a tenant ('t' + name) or caller ('c' + tenant + NUL + name) last got a turn. */
  private readonly turns = new Map<string, number>();
  private dispatches = 0;
  private total = 0;

  get size(): number {
    return this.total;
  }

  /** Jobs of `tenant` waiting now. */
  sizeOf(tenant: string): number {
    return this.tenants.get(tenant)?.size ?? 0;
  }

  push(key: FairnessKey, item: T): void {
    let tenant = this.tenants.get(key.tenant);
    if (tenant === undefined) {
      tenant = { callers: new Map(), size: 0 };
      this.tenants.set(key.tenant, tenant);
    }
    let lane = tenant.callers.get(key.caller);
    if (lane === undefined) {
      lane = [];
      tenant.callers.set(key.caller, lane);
    }
    lane.push(item);
    tenant.size++;
    this.total++;
  }

  /** The next job by turn, or undefined when none waits. */
  shift(): T | undefined {
    const tenantName = this.leastRecent(this.tenants.keys(), (name) => `t${name}`);
    if (tenantName === undefined) return undefined;
    const tenant = this.tenants.get(tenantName)!;
    const callerName = this.leastRecent(tenant.callers.keys(), (name) => `c${tenantName}\0${name}`)!;
    const lane = tenant.callers.get(callerName)!;
    const item = lane.shift()!;
    this.dispatches++;
    this.recordTurn(`t${tenantName}`);
    this.recordTurn(`c${tenantName}\0${callerName}`);
    this.dropEmpty(tenantName, tenant, callerName, lane);
    return item;
  }

  /** Removes a waiting job (its caller gave up); false when it is not waiting. */
  remove(key: FairnessKey, item: T): boolean {
    const tenant = this.tenants.get(key.tenant);
    const lane = tenant?.callers.get(key.caller);
    if (tenant === undefined || lane === undefined) return false;
    const index = lane.indexOf(item);
    if (index === -1) return false;
    lane.splice(index, 1);
    this.dropEmpty(key.tenant, tenant, key.caller, lane);
    return true;
  }

  /** Empties the queue, returning what waited. */
  drain(): T[] {
    const all: T[] = [];
    for (const tenant of this.tenants.values()) for (const lane of tenant.callers.values()) all.push(...lane);
    this.tenants.clear();
    this.total = 0;
    return all;
  }

  private dropEmpty(tenantName: string, tenant: TenantLane<T>, callerName: string, lane: T[]): void {
    tenant.size--;
    this.total--;
    if (lane.length === 0) tenant.callers.delete(callerName);
    if (tenant.size === 0) this.tenants.delete(tenantName);
  }

  /** Of `names`, the one whose last turn is oldest (never: 0); on a tie the first, which queued first. */
  private leastRecent(names: Iterable<string>, turnKey: (name: string) => string): string | undefined {
    let chosen: string | undefined;
    let chosenTurn = Infinity;
    for (const name of names) {
      const turn = this.turns.get(turnKey(name)) ?? 0;
      if (turn < chosenTurn) {
        chosen = name;
        chosenTurn = turn;
      }
    }
    return chosen;
  }

  private recordTurn(key: string): void {
    // Map order is the order of last turns: re-inserting moves the key to the end, and the
    // first key is the one forgotten when the map is full.
    this.turns.delete(key);
    this.turns.set(key, this.dispatches);
    if (this.turns.size > REMEMBERED_TURNS) this.turns.delete(this.turns.keys().next().value!);
  }
}
