// GET /-/ready: 200 while at least one Pushgateway is healthy, so that a load balancer in front of
// several dyshards skips one that can route nothing.
import { text } from "../http/answers.js";
import { noHealthyUpstream } from "../proxy/forwarder.js";
import type { Endpoint } from "./endpoint.js";
import { GET_METHODS, GET_REFUSED } from "./get-only.js";

export const ready: Endpoint = {
  path: "/-/ready",
  methods: GET_METHODS,
  open: true,
  refused: GET_REFUSED,
  serve({ membership }, _target, res) {
    const up = membership.healthyCount() > 0;
    text(res, up ? 200 : 503, up ? "OK\n" : noHealthyUpstream(membership) + "\n");
  },
};
