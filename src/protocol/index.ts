// The protocol in one import for Node-side code (daemon, CLI, extension host). The webview must
// import "./runs" and "./webview" directly: this file pulls in vscode-jsonrpc.
export * from "./runs";
export * from "./errors";
export * from "./methods";
