import { createRequire } from "node:module";

/**
 * A system BLAS (OpenBLAS, MKL, BLIS, Apple Accelerate) reached through the `koffi` FFI, whose
 * npm package ships prebuilt binaries, so nothing is compiled or downloaded at install time.
 * tfjs-backend-wasm's XNNPACK kernels run at ~20–40 GFLOP/s on one core (wasm SIMD has no FMA
 * and tfjs-wasm has no threads under Node); a native sgemm reaches ~75 GFLOP/s on one core of
 * the same machine and uses every core. `wasmBlasMatMul.ts` plugs it into the wasm backend.
 */
export interface Blas {
  /** Which library answered, e.g. "openblas (libopenblas.so.0)". */
  readonly name: string;
  /**
   * Row-major C ← op(A) op(B), op = transpose where the flag is set. The arrays are views
   * (typically of the wasm heap) passed to C without a copy; sizes are the caller's to check.
   */
  sgemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    a: Float32Array, lda: number, b: Float32Array, ldb: number, c: Float32Array, ldc: number,
  ): void;
  /** Threads the library may use per call; undefined where the library offers no control. */
  setThreads?(n: number): void;
}

interface KoffiLib {
  func(signature: string): (...args: unknown[]) => unknown;
}
interface Koffi {
  load(path: string): KoffiLib;
}

const CBLAS_ROW_MAJOR = 101;
const CBLAS_NO_TRANS = 111;
const CBLAS_TRANS = 112;

/** Optimised libraries only: the reference libblas would be slower than XNNPACK. */
function candidates(): string[] {
  switch (process.platform) {
    case "darwin":
      return ["/System/Library/Frameworks/Accelerate.framework/Accelerate", "libopenblas.dylib"];
    case "win32":
      return ["libopenblas.dll", "mkl_rt.2.dll", "mkl_rt.dll"];
    default:
      return ["libopenblas.so.0", "libopenblas.so", "libmkl_rt.so.2", "libmkl_rt.so", "libblis.so.4", "libblis.so"];
  }
}

/** Thread-count setters by library; the first symbol that resolves is used. */
const THREAD_SETTERS = [
  "void openblas_set_num_threads(int n)",
  "void MKL_Set_Num_Threads(int n)",
  "void bli_thread_set_num_threads(int64_t n)",
];

function libraryName(path: string): string {
  const p = path.toLowerCase();
  if (p.includes("openblas")) return "openblas";
  if (p.includes("mkl")) return "mkl";
  if (p.includes("blis")) return "blis";
  if (p.includes("accelerate")) return "accelerate";
  return "blas";
}

export type BlasLoad = { ok: true; blas: Blas } | { ok: false; reason: string };

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0].slice(0, 200);
}

/**
 * Finds a system BLAS. `library` (a path or soname) overrides the search. Never throws: where
 * koffi or every library is missing it says why, and the caller keeps XNNPACK.
 */
export function loadBlas(library?: string): BlasLoad {
  let koffi: Koffi;
  try {
    // Computed name: bundlers must leave this optional native package alone.
    koffi = createRequire(__filename)(["koffi"].join("")) as Koffi;
  } catch (e) {
    return { ok: false, reason: `the optional package koffi is not installed (${firstLine(e)})` };
  }
  const tried: string[] = [];
  for (const path of library ? [library] : candidates()) {
    let lib: KoffiLib;
    let gemm: (...args: unknown[]) => unknown;
    try {
      lib = koffi.load(path);
      gemm = lib.func(
        "void cblas_sgemm(int order, int transA, int transB, int M, int N, int K, float alpha, " +
          "float *A, int lda, float *B, int ldb, float beta, float *C, int ldc)",
      );
    } catch (e) {
      tried.push(`${path}: ${firstLine(e)}`);
      continue;
    }
    let setThreads: ((n: number) => void) | undefined;
    for (const sig of THREAD_SETTERS) {
      try {
        const f = lib.func(sig);
        setThreads = (n) => void f(n);
        break;
      } catch {
        // symbol absent in this library: try the next one
      }
    }
    const blas: Blas = {
      name: `${libraryName(path)} (${path})`,
      sgemm: (transA, transB, m, n, k, a, lda, b, ldb, c, ldc) =>
        void gemm(CBLAS_ROW_MAJOR, transA ? CBLAS_TRANS : CBLAS_NO_TRANS, transB ? CBLAS_TRANS : CBLAS_NO_TRANS,
          m, n, k, 1, a, lda, b, ldb, 0, c, ldc),
      ...(setThreads ? { setThreads } : {}),
    };
    return { ok: true, blas };
  }
  return { ok: false, reason: `no BLAS library found (${tried.join("; ")})` };
}
