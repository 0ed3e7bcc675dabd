import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SERVICE_NAMES, loadConfig, type ServiceName } from '@c2pa-mesh/config';
import { parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/start-mesh.js';

/**
 * The Kubernetes base as `kubectl kustomize deploy/kubernetes` renders it. The network policies
 * are judged by evaluating them (selectors, ports, peers) for every pair of services, and each
 * Deployment's environment is fed to the mesh's own configuration loader.
 */

const run = promisify(execFile);

type Labels = Record<string, string>;
interface Selector {
  matchLabels?: Labels;
  matchExpressions?: Array<{ key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }>;
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Labels };
  spec?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/** What each service calls, and nothing more, over the mesh's RPC port. */
const CALLS: Record<ServiceName, ServiceName[]> = {
  signing: ['certificate-authority', 'registry'],
  verification: ['certificate-authority', 'registry'],
  'certificate-authority': [],
  registry: ['certificate-authority'],
};

function selects(selector: Selector | undefined, labels: Labels): boolean {
  if (!selector) return false;
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every((e) => {
    if (e.operator === 'In') return e.values!.includes(labels[e.key]);
    if (e.operator === 'NotIn') return !e.values!.includes(labels[e.key]);
    if (e.operator === 'Exists') return e.key in labels;
    return !(e.key in labels);
  });
  return byLabels && byExpressions;
}

/** A pod as network policies see it: its labels, namespace labels and named ports. */
interface Endpoint {
  labels: Labels;
  namespaceLabels: Labels;
  ports: Record<string, number>;
  /** An address outside the cluster (PostgreSQL, a webhook target), not a pod. */
  external?: boolean;
}

const MESH_NAMESPACE: Labels = { 'kubernetes.io/metadata.name': 'c2pa-mesh' };

function portMatches(rulePorts: Array<{ port?: number | string; protocol?: string }> | undefined, port: number, protocol: string, target: Endpoint): boolean {
  if (!rulePorts || rulePorts.length === 0) return true;
  return rulePorts.some((p) => (p.protocol ?? 'TCP') === protocol && (p.port === undefined || p.port === port || (typeof p.port === 'string' && target.ports[p.port] === port)));
}

function peerMatches(peers: any[] | undefined, other: Endpoint, policyNamespace: Labels): boolean {
  if (!peers || peers.length === 0) return true;
  return peers.some((peer) => {
    // Pod addresses are private; every ipBlock here excludes the private ranges.
    if (peer.ipBlock) return other.external === true;
    if (other.external) return false;
    const namespaceOk = peer.namespaceSelector ? selects(peer.namespaceSelector, other.namespaceLabels) : selects({ matchLabels: policyNamespace }, other.namespaceLabels);
    const podOk = peer.podSelector ? selects(peer.podSelector, other.labels) : true;
    return namespaceOk && podOk;
  });
}

function allowed(policies: K8sObject[], direction: 'Egress' | 'Ingress', subject: Endpoint, other: Endpoint, port: number, protocol = 'TCP'): boolean {
  const applying = policies.filter((p) => selects(p.spec.podSelector, subject.labels) && (p.spec.policyTypes ?? ['Ingress']).includes(direction));
  if (applying.length === 0) return true;
  const portOwner = direction === 'Egress' ? other : subject;
  return applying.some((p) =>
    (direction === 'Egress' ? p.spec.egress : p.spec.ingress)?.some(
      (rule: any) => portMatches(rule.ports, port, protocol, portOwner) && peerMatches(direction === 'Egress' ? rule.to : rule.from, other, MESH_NAMESPACE),
    ),
  );
}

describe('the Kubernetes base (kubectl kustomize deploy/kubernetes)', () => {
  let objects: K8sObject[];
  const find = (kind: string, name: string) => {
    const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
    expect(found, `${kind} ${name}`).toBeDefined();
    return found!;
  };
  const container = (service: ServiceName) => find('Deployment', `c2pa-mesh-${service}`).spec.template.spec.containers[0];
  const endpoint = (service: ServiceName): Endpoint => {
    const ports = Object.fromEntries(container(service).ports.map((p: any) => [p.name, p.containerPort]));
    return { labels: find('Deployment', `c2pa-mesh-${service}`).spec.template.metadata.labels, namespaceLabels: MESH_NAMESPACE, ports };
  };
  const policies = () => objects.filter((o) => o.kind === 'NetworkPolicy');

  beforeAll(async () => {
    let stdout: string;
    try {
      ({ stdout } = await run('kubectl', ['kustomize', 'deploy/kubernetes'], { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 }));
    } catch (err) {
      throw new Error(`kubectl kustomize deploy/kubernetes failed (kubectl is needed; .ci/run installs Debian's kubernetes-client when it is missing): ${(err as Error).message}`);
    }
    objects = parseAllDocuments(stdout).map((doc) => {
      expect(doc.errors).toEqual([]);
      return doc.toJS() as K8sObject;
    });
  });

  it('has a Deployment, Service, PodDisruptionBudget and CPU HorizontalPodAutoscaler per service', () => {
    for (const service of SERVICE_NAMES) {
      const name = `c2pa-mesh-${service}`;
      const deployment = find('Deployment', name);
      const podLabels = deployment.spec.template.metadata.labels;
      expect(selects(deployment.spec.selector, podLabels)).toBe(true);
      // No other Deployment's pods fall under this one's Service, budget or autoscaler.
      const others = SERVICE_NAMES.filter((s) => s !== service).map((s) => find('Deployment', `c2pa-mesh-${s}`).spec.template.metadata.labels);
      const serviceObject = find('Service', name);
      expect(selects({ matchLabels: serviceObject.spec.selector }, podLabels)).toBe(true);
      expect(others.some((labels) => selects({ matchLabels: serviceObject.spec.selector }, labels))).toBe(false);
      expect(serviceObject.spec.ports).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'rpc', port: 8443 })]));

      const budget = find('PodDisruptionBudget', name);
      expect(budget.apiVersion).toBe('policy/v1');
      expect(selects(budget.spec.selector, podLabels)).toBe(true);
      expect(others.some((labels) => selects(budget.spec.selector, labels))).toBe(false);
      expect(budget.spec.minAvailable ?? budget.spec.maxUnavailable).toBeDefined();

      const autoscaler = find('HorizontalPodAutoscaler', name);
      expect(autoscaler.apiVersion).toBe('autoscaling/v2');
      expect(autoscaler.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name });
      expect(autoscaler.spec.minReplicas).toBeGreaterThanOrEqual(2);
      expect(autoscaler.spec.maxReplicas).toBeGreaterThan(autoscaler.spec.minReplicas);
      expect(autoscaler.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: expect.any(Number) } } }]);
    }
    expect(find('Service', 'c2pa-mesh-certificate-authority').spec.ports).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'pki-http', port: 8080 })]));
  });

  it('gives each process a configuration the mesh accepts: its one service, the others at their Services, secrets from the Secret', () => {
    const configMap = find('ConfigMap', 'c2pa-mesh-config');
    const secret = find('Secret', 'c2pa-mesh-secrets');
    expect(Object.keys(secret.stringData ?? secret.data ?? {}).sort()).toEqual(['DATABASE_URL', 'MESH_KEK']);
    for (const service of SERVICE_NAMES) {
      const c = container(service);
      expect(c.envFrom).toEqual(expect.arrayContaining([{ configMapRef: { name: 'c2pa-mesh-config' } }, { secretRef: { name: 'c2pa-mesh-secrets' } }]));
      expect(c.command, 'the image runs package.json start script').toBeUndefined();
      expect(c.image).toBe('c2pa-mesh:0.1.0');
      const env: Record<string, string> = { ...configMap.data, ...secret.stringData, ...Object.fromEntries(c.env.map((e: any) => [e.name, e.value])) };
      const config = loadConfig(env);
      expect(config.services).toEqual([service]);
      expect(config.databaseUrl).toMatch(/^postgres:\/\//);
      expect(config.host).toBe('0.0.0.0');
      for (const other of SERVICE_NAMES.filter((s) => s !== service)) {
        const url = new URL(config.serviceUrls[other]!);
        // The URL names a Service of this base, on its RPC port, and the shared server certificate names it.
        const target = find('Service', url.hostname);
        expect(target.spec.ports.some((p: any) => p.port === Number(url.port))).toBe(true);
        expect(selects({ matchLabels: target.spec.selector }, endpoint(other).labels)).toBe(true);
        expect(config.serverNames).toContain(url.hostname);
      }
      // The data dir and the temporary directory are the only writable places.
      const mounts = Object.fromEntries(c.volumeMounts.map((m: any) => [m.mountPath, m]));
      expect(Object.keys(mounts).sort()).toEqual(['/data', '/tmp']);
      expect(config.dataDir).toBe('/data');
      expect(Object.values(mounts).some((m: any) => m.readOnly)).toBe(false);
    }
  });

  it('probes /readyz and /livez on the metrics port, sets resources, and runs non-root on a read-only root filesystem', () => {
    for (const service of SERVICE_NAMES) {
      const deployment = find('Deployment', `c2pa-mesh-${service}`);
      const c = container(service);
      const metricsPort = endpoint(service).ports[c.readinessProbe.httpGet.port] ?? c.readinessProbe.httpGet.port;
      expect(metricsPort).toBe(9464);
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
      expect(c.livenessProbe.httpGet).toEqual({ path: '/livez', port: c.readinessProbe.httpGet.port });
      for (const kind of ['requests', 'limits']) {
        expect(c.resources[kind].cpu, `${service} ${kind}.cpu`).toBeDefined();
        expect(c.resources[kind].memory, `${service} ${kind}.memory`).toBeDefined();
      }
      const pod = deployment.spec.template.spec;
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    }
  });

  it('lets each service reach only the services it calls, and every one PostgreSQL and DNS', () => {
    const all = policies();
    const defaultDeny = all.find((p) => (p.spec.policyTypes ?? []).includes('Ingress') && p.spec.policyTypes.includes('Egress') && !p.spec.ingress && !p.spec.egress);
    expect(defaultDeny, 'a default-deny policy').toBeDefined();
    for (const service of SERVICE_NAMES) expect(selects(defaultDeny!.spec.podSelector, endpoint(service).labels)).toBe(true);

    const reach: string[] = [];
    for (const from of SERVICE_NAMES) {
      for (const to of SERVICE_NAMES) {
        if (from === to) continue;
        for (const port of Object.values(endpoint(to).ports)) {
          if (allowed(all, 'Egress', endpoint(from), endpoint(to), port) && allowed(all, 'Ingress', endpoint(to), endpoint(from), port)) reach.push(`${from} -> ${to}:${port}`);
        }
      }
    }
    expect(reach.sort()).toEqual(SERVICE_NAMES.flatMap((from) => CALLS[from].map((to) => `${from} -> ${to}:8443`)).sort());

    const postgresql: Endpoint = { labels: {}, namespaceLabels: {}, ports: {}, external: true };
    const dns: Endpoint = { labels: { 'k8s-app': 'kube-dns' }, namespaceLabels: { 'kubernetes.io/metadata.name': 'kube-system' }, ports: {} };
    const prometheus: Endpoint = { labels: { app: 'prometheus' }, namespaceLabels: { 'kubernetes.io/metadata.name': 'monitoring' }, ports: {} };
    for (const service of SERVICE_NAMES) {
      expect(allowed(all, 'Egress', endpoint(service), postgresql, 5432), `${service} -> PostgreSQL`).toBe(true);
      expect(allowed(all, 'Egress', endpoint(service), dns, 53, 'UDP'), `${service} -> DNS`).toBe(true);
      expect(allowed(all, 'Ingress', endpoint(service), prometheus, 9464), `Prometheus -> ${service}`).toBe(true);
      // Not a way out to anything else on the database port's neighbours.
      expect(allowed(all, 'Egress', endpoint(service), postgresql, 22)).toBe(false);
    }
    // Relying parties reach OCSP and the TSA without credentials; only the CA serves them.
    expect(allowed(all, 'Ingress', endpoint('certificate-authority'), prometheus, 8080)).toBe(true);
    expect(allowed(all, 'Ingress', endpoint('signing'), prometheus, 8080)).toBe(false);
  });
});
