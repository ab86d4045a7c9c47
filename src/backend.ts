/**
 * Pick the fastest TensorFlow.js backend this machine can train on, once, at start-up:
 *
 *   tfjs-node-gpu (installed and a CUDA GPU present) → tfjs-node → WebGPU through Dawn (the
 *   `webgpu` package, only with a real GPU adapter) → 'native' (this project's CPU kernel pack:
 *   oneDNN convolutions + 2-thread elementwise kernels, when `npm run build:native` built it) → cpu.
 *
 * `SCCONV_BACKEND` (or `opts.backend`) names one of them and skips the search. The result says
 * which backend was chosen and why each faster one was skipped. CLI entry points and notebooks
 * call this; library code never does.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as tf from '@tensorflow/tfjs';
import { ValueError } from './errors';
import { loadNativeAddon } from './kernels/native_addon';
import { NATIVE_BACKEND_NAME, registerNativeBackend } from './kernels/native_backend';

/** The names `SCCONV_BACKEND` accepts, fastest first. */
export const BACKEND_CHOICES = ['node-gpu', 'node', 'webgpu', 'native', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export interface BackendOptions {
  /** Use this backend (else `SCCONV_BACKEND`, else the fastest that works). */
  backend?: string;
  /** CPU threads for the native backend (default: `SCCONV_THREADS` or the number of cores). */
  threads?: number;
  /** Where the one-line summary goes (default: console.error); pass `null` for silence. */
  log?: ((line: string) => void) | null;
}

export interface BackendChoiceResult {
  /** The active tfjs backend name ('tensorflow', 'webgpu', 'native' or 'cpu'). */
  name: string;
  /** Why it was chosen, with versions (e.g. the oneDNN version and thread count). */
  reason: string;
  /** The faster candidates that were not used, and why. */
  skipped: { name: string; why: string }[];
}

/** Import a package that is not a dependency (tfjs-node, webgpu): null when it is not installed. */
async function optionalImport(pkg: string): Promise<Record<string, unknown> | null> {
  try {
    return (await import(pkg)) as Record<string, unknown>;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return null;
    throw e;
  }
}

function hasCudaGpu(): boolean {
  return fs.existsSync('/proc/driver/nvidia/version') || fs.existsSync('/dev/nvidia0');
}

type Attempt = () => Promise<string>; // resolves to the reason it was chosen; throws why not

/** One attempt per choice; each either activates its backend or throws the reason it cannot. */
function attempts(threads: number): Record<BackendChoice, Attempt> {
  const activate = async (name: string) => {
    if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') failed`);
    await tf.ready();
  };
  const tfjsNode = async (pkg: string) => {
    if (!(await optionalImport(pkg))) throw new Error(`${pkg} is not installed (optional: npm install ${pkg}@${tf.version.tfjs})`);
    if (!tf.findBackendFactory('tensorflow')) {
      throw new Error(`${pkg} loaded a different @tensorflow/tfjs-core than this project's ${tf.version['tfjs-core']}`);
    }
    await activate('tensorflow');
  };
  return {
    'node-gpu': async () => {
      if (!hasCudaGpu()) throw new Error('no CUDA GPU (no /proc/driver/nvidia/version)');
      await tfjsNode('@tensorflow/tfjs-node-gpu');
      return 'tfjs-node-gpu with a CUDA GPU';
    },
    node: async () => {
      await tfjsNode('@tensorflow/tfjs-node');
      return 'tfjs-node (libtensorflow)';
    },
    webgpu: async () => {
      const dawn = await optionalImport('webgpu');
      if (!dawn) throw new Error('the `webgpu` package (Dawn for Node) is not installed (optional: npm install webgpu @tensorflow/tfjs-backend-webgpu)');
      const g = globalThis as Record<string, unknown>;
      Object.assign(g, dawn.globals as object);
      const gpu = (dawn.create as (flags: string[]) => unknown)([]);
      const adapter = await (gpu as { requestAdapter(): Promise<unknown> }).requestAdapter() as
        { isFallbackAdapter?: boolean; info?: { vendor?: string; description?: string; architecture?: string } } | null;
      if (!adapter) throw new Error('Dawn found no GPU adapter');
      const info = `${adapter.info?.vendor ?? ''} ${adapter.info?.architecture ?? ''} ${adapter.info?.description ?? ''}`.trim();
      if (adapter.isFallbackAdapter || /swiftshader|llvmpipe|software/i.test(info)) {
        throw new Error(`Dawn's only adapter is a software one (${info})`);
      }
      if (typeof g.navigator !== 'object' || g.navigator === null) g.navigator = {};
      Object.defineProperty(g.navigator as object, 'gpu', { value: gpu, configurable: true });
      if (!(await optionalImport('@tensorflow/tfjs-backend-webgpu'))) {
        throw new Error(`@tensorflow/tfjs-backend-webgpu is not installed (npm install @tensorflow/tfjs-backend-webgpu@${tf.version.tfjs})`);
      }
      await activate('webgpu');
      return `WebGPU through Dawn on ${info || 'a GPU adapter'}`;
    },
    native: async () => {
      const { addon, why } = loadNativeAddon();
      if (!addon) throw new Error(why);
      registerNativeBackend(addon, threads);
      await activate(NATIVE_BACKEND_NAME);
      return `the native CPU kernel pack (${addon.version()}, ${addon.getThreads()} threads)`;
    },
    cpu: async () => {
      await activate('cpu');
      return 'the stock tfjs cpu backend (pure JavaScript, slow for training)';
    },
  };
}

/** Choose, activate and report the backend (see the file comment for the order). */
export async function initBackend(opts: BackendOptions = {}): Promise<BackendChoiceResult> {
  const log = opts.log === undefined ? (line: string) => console.error(line) : opts.log;
  const envThreads = Number(process.env.SCCONV_THREADS);
  const threads = opts.threads ?? (envThreads > 0 ? envThreads : os.cpus().length);
  const forced = opts.backend ?? process.env.SCCONV_BACKEND;
  const tries = attempts(threads);
  const skipped: { name: string; why: string }[] = [];
  if (forced) {
    if (!(BACKEND_CHOICES as readonly string[]).includes(forced)) {
      throw new ValueError(`initBackend expects SCCONV_BACKEND to be one of ${BACKEND_CHOICES.join(', ')}, but received ${JSON.stringify(forced)}.`);
    }
    try {
      const reason = await tries[forced as BackendChoice]();
      const result = { name: tf.getBackend(), reason: `${reason} (asked for by SCCONV_BACKEND=${forced})`, skipped };
      log?.(`backend: ${result.name}: ${result.reason}`);
      return result;
    } catch (e) {
      throw new ValueError(`initBackend could not start the requested backend ${JSON.stringify(forced)}: ${(e as Error).message}.`);
    }
  }
  for (const choice of BACKEND_CHOICES) {
    try {
      const reason = await tries[choice]();
      const result = { name: tf.getBackend(), reason, skipped };
      log?.(`backend: ${result.name}: ${reason}${skipped.length ? `; skipped ${skipped.map((s) => `${s.name} (${s.why})`).join('; ')}` : ''}`);
      return result;
    } catch (e) {
      skipped.push({ name: choice, why: (e as Error).message });
    }
  }
  throw new Error(`initBackend found no usable backend: ${skipped.map((s) => `${s.name}: ${s.why}`).join('; ')}`);
}
