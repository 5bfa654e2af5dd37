/*
 * Starts the gateway's GraphiQL explorer (the page is resolvers/graphiql.py's graphiql_html()).
 *
 * Kept out of the page so that a Content-Security-Policy without 'unsafe-inline'
 * scripts can apply. The endpoint comes from the root element's data-endpoint.
 * Requests are POSTs of JSON to that endpoint, carrying whatever headers the
 * user writes in the Headers pane, e.g. {"Authorization": "Bearer <token>"}.
 */
(function () {
  "use strict";

  var root = document.getElementById("graphiql");
  var endpoint = root.getAttribute("data-endpoint") || "/graphql";

  var defaultQuery = [
    "# The gateway's GraphQL explorer.",
    "# Run a query with Ctrl-Enter or the run button.",
    "# To act as a user, put a token from the login",
    "# mutation in the Headers pane below:",
    '#   {"Authorization": "Bearer <token>"}',
    "",
    "{",
    "  hello",
    "}",
    "",
  ].join("\n");

  var fetcher = GraphiQL.createFetcher({ url: endpoint });

  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    })
  );
})();
