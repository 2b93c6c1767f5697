// Shared by the GET endpoints: HEAD is served like GET (Node writes no body), and another method
// gets the 405 of the Pushgateway's router.
import { GET_ALLOW } from "../http/raw-answers.js";
import type { Endpoint } from "./endpoint.js";

export const GET_METHODS = ["GET", "HEAD"] as const;
export const GET_REFUSED: Endpoint["refused"] = { allow: GET_ALLOW, body: "Method Not Allowed\n" };
