/** The compute backends HyperAT knows, in the order `auto` tries them. */
export const BACKEND_ORDER = ["tensorflow-gpu", "webgpu", "tensorflow", "wasm", "cpu"] as const;
export type BackendName = (typeof BACKEND_ORDER)[number];
export type BackendRequest = BackendName | "auto";

export function isBackendRequest(v: unknown): v is BackendRequest {
  return v === "auto" || (BACKEND_ORDER as readonly unknown[]).includes(v);
}

/** tfjs' own name for the backend each of ours registers. */
export const TFJS_BACKEND_NAME: Record<BackendName, string> = {
  "tensorflow-gpu": "tensorflow",
  webgpu: "webgpu",
  tensorflow: "tensorflow",
  wasm: "wasm",
  cpu: "cpu",
};
