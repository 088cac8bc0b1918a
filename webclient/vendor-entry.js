// Entry for the one generated vendor file (built by `make`, never committed):
// socket.io-msgpack-parser and notepack.io ship CommonJS only.
export { io } from "socket.io-client";
export * as msgpackParser from "socket.io-msgpack-parser";
export { encode as msgpackEncode, decode as msgpackDecode } from "notepack.io";
