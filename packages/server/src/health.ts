import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import { notFound } from '@c2pa-mesh/errors';
import { Health, healthV1 } from '@c2pa-mesh/proto';

const { HealthCheckResponse_ServingStatus: ServingStatus, HealthCheckResponseSchema } = healthV1;

export interface HealthState {
  /** Full service names served by this process; "" is the process as a whole. */
  services: readonly string[];
  /** False while starting or draining: probes then see NOT_SERVING. */
  serving(): boolean;
}

/** grpc.health.v1: Check, List and Watch; needs no identity (load balancers and probes call it). */
export function createHealthService(state: HealthState): ServiceImpl<typeof Health> {
  const status = (service: string) => {
    if (service !== '' && !state.services.includes(service)) {
      throw notFound(`unknown service "${service}"; this process serves ${state.services.join(', ')}`);
    }
    return create(HealthCheckResponseSchema, { status: state.serving() ? ServingStatus.SERVING : ServingStatus.NOT_SERVING });
  };
  return {
    check(req) {
      return status(req.service);
    },
    list() {
      const statuses: Record<string, ReturnType<typeof status>> = { '': status('') };
      for (const service of state.services) statuses[service] = status(service);
      return { statuses };
    },
    async *watch(req, ctx) {
      let last: number | undefined;
      while (!ctx.signal.aborted) {
        const current = status(req.service);
        if (current.status !== last) {
          last = current.status;
          yield current;
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 1000);
          ctx.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve();
          }, { once: true });
        });
      }
    },
  };
}
