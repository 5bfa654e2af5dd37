/*
 * Starts the gateway's GraphiQL explorer (the page is resolvers/graphiql.py's graphiql_html()).
 *
 * Kept out of the page so that a Content-Security-Policy without 'unsafe-inline'
 * scripts can apply. The endpoint comes from the root element's data-endpoint.
 * Requests are POSTs of JSON to that endpoint, carrying whatever headers the
 * user writes in the Headers pane, e.g. {"Authorization": "Bearer <token>"}.
 * Subscriptions are POSTed the same way with Accept: text/event-stream (GraphQL
 * over SSE), their events shown as they come; stopping the run aborts the stream.
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

  var httpFetcher = GraphiQL.createFetcher({ url: endpoint });

  // The type of the operation that will run: "query", "mutation" or "subscription".
  // A small scanner of the document's top level (strings and comments skipped),
  // so that no GraphQL parser is needed in the page.
  function operationType(query, operationName) {
    var operations = [];
    var depth = 0;
    var i = 0;
    var word = /[_A-Za-z][_0-9A-Za-z]*/y;
    while (i < query.length) {
      var c = query[i];
      if (c === "#") {
        while (i < query.length && query[i] !== "\n") i++;
      } else if (c === '"') {
        var block = query.startsWith('"""', i);
        var end = block ? query.indexOf('"""', i + 3) : i + 1;
        if (!block) {
          while (end < query.length && query[end] !== '"') end += query[end] === "\\" ? 2 : 1;
        }
        i = end < 0 ? query.length : end + (block ? 3 : 1);
        continue;
      } else if (c === "{") {
        if (depth === 0 && !operations.pending) operations.push({ type: "query", name: null });
        operations.pending = false;
        depth++;
      } else if (c === "}") {
        depth--;
      } else if (depth === 0) {
        word.lastIndex = i;
        var found = word.exec(query);
        if (found) {
          var keyword = found[0];
          i += keyword.length;
          if (keyword === "query" || keyword === "mutation" || keyword === "subscription") {
            var rest = /\s*([_A-Za-z][_0-9A-Za-z]*)?/y;
            rest.lastIndex = i;
            var named = rest.exec(query);
            operations.push({ type: keyword, name: named && named[1] ? named[1] : null });
            operations.pending = true;
          } else if (keyword === "fragment") {
            operations.pending = true;
          }
          continue;
        }
      }
      i++;
    }
    var chosen = operations.filter(function (op) {
      return operationName ? op.name === operationName : true;
    });
    return chosen.length === 1 ? chosen[0].type : "query";
  }

  // A subscription over GraphQL over SSE (distinct connections mode): a POST
  // accepting text/event-stream, read with fetch's streaming body, as an
  // AsyncIterable of results (what GraphiQL takes from a fetcher).
  function sseSubscription(params, headers) {
    var controller = new AbortController();
    var queue = [];
    var waiting = null;
    var finished = false;

    function deliver(item) {
      if (waiting) {
        var resolve = waiting;
        waiting = null;
        resolve(item);
      } else {
        queue.push(item);
      }
    }
    function finish() {
      finished = true;
      deliver({ done: true, value: undefined });
    }

    function handleEvent(block) {
      var name = "";
      var data = [];
      block.split("\n").forEach(function (line) {
        if (line.indexOf("event:") === 0) name = line.slice(6).trim();
        else if (line.indexOf("data:") === 0) data.push(line.slice(5).trim());
      });
      if (name === "next") deliver({ done: false, value: JSON.parse(data.join("\n")) });
      else if (name === "complete") finish();
    }

    fetch(endpoint, {
      method: "POST",
      headers: Object.assign({}, headers, {
        "Content-Type": "application/json",
        Accept: "text/event-stream",
      }),
      body: JSON.stringify(params),
      signal: controller.signal,
    })
      .then(function (response) {
        var type = response.headers.get("content-type") || "";
        if (type.indexOf("text/event-stream") !== 0) {
          // Refused before it started (a token, a limit, a document): a JSON answer.
          return response.json().then(function (body) {
            deliver({ done: false, value: body });
            finish();
          });
        }
        var reader = response.body.getReader();
        var decoder = new TextDecoder();
        var buffer = "";
        function read() {
          return reader.read().then(function (chunk) {
            if (chunk.done) return finish();
            buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n/g, "\n");
            var end;
            while ((end = buffer.indexOf("\n\n")) >= 0) {
              handleEvent(buffer.slice(0, end));
              buffer = buffer.slice(end + 2);
            }
            return read();
          });
        }
        return read();
      })
      .catch(function (error) {
        if (!finished && error.name !== "AbortError") {
          deliver({ done: false, value: { errors: [{ message: String(error) }] } });
        }
        finish();
      });

    var iterator = {
      next: function () {
        if (queue.length) return Promise.resolve(queue.shift());
        if (finished) return Promise.resolve({ done: true, value: undefined });
        return new Promise(function (resolve) {
          waiting = resolve;
        });
      },
      return: function () {
        finished = true;
        controller.abort();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
    iterator[Symbol.asyncIterator] = function () {
      return iterator;
    };
    return iterator;
  }

  function fetcher(params, options) {
    var headers = (options && options.headers) || {};
    if (operationType(params.query || "", params.operationName) === "subscription") {
      return sseSubscription(params, headers);
    }
    return httpFetcher(params, options);
  }

  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    })
  );
})();
