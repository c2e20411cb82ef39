// Entry `websocket-streams/pubsub`: topics (named sets of connections) in one process, and
// across processes over Redis pub/sub. Its own entry so that the core gains no dependency:
// `redis` is an optional peer dependency, loaded only by this entry.
export { Topics } from './topics';
export { RedisTopics, type RedisTopicsOptions, type RedisTopicsStats, type RedisGap, type RedisStatus, type PublishResult } from './redis-topics';
