// The legacy project's defaults; telemetry is turned off by the bench's environment.
module.exports = {
  reactStrictMode: true,
};
