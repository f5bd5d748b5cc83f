"""The W3C SPARQL 1.1 Graph Store cases written as prose, restated, and uploads beyond the
suites, against ``gff2rdf serve`` on 127.0.0.1 (the harness: ``test_server_w3c_support.py``).

``http-rdf-update/manifest.ttl`` (w3c/rdf-tests @ ad541a5f, copied to ``tests/data/w3c/``):
18 deprecated cases written as prose, restated in ``HTTP_RDF_UPDATE`` and run in their order
(they build on each other); ``test_server_w3c.py`` checks that each is run. Then uploads that
go wrong (multipart, media types) change nothing, and POST to the store creates graphs or fills
the dataset.
"""

from __future__ import annotations

import urllib.parse

from rdflib.compare import isomorphic

from tests.server.test_server_w3c_support import Client, client, parse_graph

__all__ = ["client"]  # a fixture used here


# -- http-rdf-update: the deprecated cases, restated -------------------------------------------

FOAF = ("@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n"
        "@prefix v: <http://www.w3.org/2006/vcard/ns#> .\n")
PERSON = "<http://www.example/gsp/person/1>"
JOHN = f'{FOAF}{PERSON} a foaf:Person; foaf:businessCard [ a v:VCard; v:fn "John Doe" ].'
JANE = f'{FOAF}{PERSON} a foaf:Person; foaf:businessCard [ a v:VCard; v:fn "Jane Doe" ].'
ALICE = f'{FOAF}[] a foaf:Person; foaf:businessCard [ a v:VCard; v:given-name "Alice" ].'
JANE_NAMED = f'{JANE}\n{PERSON} foaf:name "Jane Doe" .'
JANE_FULL = f'{JANE_NAMED}\n{PERSON} foaf:givenName "Jane"; foaf:familyName "Doe" .'
BOUNDARY = "a6fe4cd636164618814be9f8d3d1a0de"
MULTIPART = "".join(
    f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{name}"\r\n'
    f"Content-Type: text/turtle; charset=utf-8\r\n\r\n"
    f"@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n{PERSON} {triple} .\r\n"
    for name, triple in [("lastName.ttl", 'foaf:familyName "Doe"'),
                         ("firstName.ttl", 'foaf:givenName "Jane"')]) + f"--{BOUNDARY}--\r\n"
TURTLE = {"Content-Type": "text/turtle; charset=utf-8"}
ACCEPT = {"Accept": "text/turtle"}

# (name, method, target, headers, body, statuses, expected graph or None). $G$ is the graph
# http://HOST/store/person/1.ttl named indirectly; $NEWPATH$ the path of the POST's Location.
# Where the prose says "200 OK" for DELETE and POST, 204 is as good (GSP sections 5.4, 5.5).
Row = tuple[str, str, str, dict[str, str], "str | None", set[int], "str | None"]
HTTP_RDF_UPDATE: list[Row] = [
    ("put__initial_state", "PUT", "/store/person/1.ttl", TURTLE, JOHN, {201}, None),
    ("get_of_put__initial_state", "GET", "/store?graph=$G$", ACCEPT, None, {200}, JOHN),
    ("put__graph_already_in_store", "PUT", "/store/person/1.ttl", TURTLE, JANE, {204}, None),
    ("get_of_put__graph_already_in_store", "GET", "/store/person/1.ttl", ACCEPT, None, {200},
     JANE),
    ("put__default_graph", "PUT", "/store?default", TURTLE, ALICE, {201}, None),
    ("get_of_put__default_graph", "GET", "/store?default", ACCEPT, None, {200}, ALICE),
    # not a case: the prose deletes person/2.ttl, which no earlier case creates
    ("(setup)", "PUT", "/store/person/2.ttl", TURTLE, ALICE, {201}, None),
    ("delete__existing_graph", "DELETE", "/store/person/2.ttl", {}, None, {200, 204}, None),
    ("get_of_delete__existing_graph", "GET", "/store/person/2.ttl", {}, None, {404}, None),
    ("delete__nonexistent_graph", "DELETE", "/store/person/2.ttl", {}, None, {404}, None),
    # the prose's body lacks the final "." (not Turtle); its successor cases have it
    ("post__existing_graph", "POST", "/store/person/1.ttl", TURTLE,
     f'@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n{PERSON} foaf:name "Jane Doe" .',
     {200, 204}, None),
    # the prose shows the graph of put__initial_state here, an erratum: POST merges (GSP 5.5),
    # and get_of_post__multipart_formdata shows this foaf:name
    ("get_of_post__existing_graph", "GET", "/store/person/1.ttl", ACCEPT, None, {200},
     JANE_NAMED),
    ("post__multipart_formdata", "POST", "/store/person/1.ttl",
     {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}, MULTIPART, {200, 204},
     None),
    ("get_of_post__multipart_formdata", "GET", "/store/person/1.ttl", {}, None, {200},
     JANE_FULL),
    ("post__create__new_graph", "POST", "/store", TURTLE, ALICE, {201}, None),
    ("get_of_post__create__new_graph", "GET", "$NEWPATH$", ACCEPT, None, {200}, ALICE),
    ("get_of_post__after_noop", "GET", "$NEWPATH$", ACCEPT, None, {200}, ALICE),
    ("head_on_an_existing_graph", "HEAD", "/store/person/1.ttl", {}, None, {200}, None),
    ("head_on_a_nonexisting_graph", "HEAD", "/store/person/4.ttl", {}, None, {404}, None),
]


def test_http_rdf_update(client: Client) -> None:
    """The deprecated http-rdf-update cases, in their order (each builds on the last)."""
    client.reset()
    variables = {"$G$": urllib.parse.quote(f"http://{client.host}/store/person/1.ttl", safe="")}
    for name, method, target, headers, body, statuses, graph in HTTP_RDF_UPDATE:
        for key, value in variables.items():
            target = target.replace(key, value)
        status, got, data = client.request(method, target, body.encode() if body else None,
                                           headers)
        assert status in statuses, (name, status, data[:300])
        if graph is not None:
            assert got["content-type"] == "text/turtle; charset=utf-8", name
            assert isomorphic(parse_graph(data, got["content-type"]),
                              parse_graph(graph, "text/turtle")), (name, data.decode())
        if name == "head_on_an_existing_graph":
            assert got["content-type"] == "text/turtle; charset=utf-8" and data == b""
        if name == "post__create__new_graph":
            location = got["location"]
            assert location.startswith(f"http://{client.host}/store/"), location
            variables["$NEWPATH$"] = urllib.parse.urlsplit(location).path

# -- beyond the suites: uploads that go wrong ----------------------------------------------------


def _multipart(*parts: tuple[str, str | None, bytes]) -> bytes:
    out = b""
    for filename, media, data in parts:
        out += (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f"; '
                f'filename="{filename}"\r\n').encode()
        if media:
            out += f"Content-Type: {media}\r\n".encode()
        out += b"\r\n" + data + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def test_bad_uploads_change_nothing(client: Client) -> None:
    client.reset()
    target = "/store/uploads"
    good = b'<http://a/> <http://b/> "kept" .\n'
    assert client.request("PUT", target, good, {"Content-Type": "application/n-triples"}
                          )[0] == 201
    form = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    cases = [
        ({"Content-Type": "multipart/form-data"}, _multipart(("a.ttl", None, b"")), 400,
         b"boundary"),
        (form, _multipart(("a.ttl", None, good))[:-30], 400, b"closing boundary"),
        (form, _multipart(("a.docx", None, good)), 415, b"part 1"),
        (form, _multipart(("a.ttl", "application/pdf", good)), 415, b"application/pdf"),
        (form, _multipart(("a.nq", "application/n-quads", good)), 415, b"one graph"),
        (form, _multipart(("a.ttl", None, b'<http://a/> <http://b/> "new" .'),
                          ("b.nt", None, b"<http://a/> oops")), 400, b"part 2"),
        ({"Content-Type": "application/json"}, b"{}", 415, b"application/json"),
        ({}, good, 415, b"Content-Type"),
    ]
    for headers, body, status, word in cases:
        got, _, text = client.request("POST", target, body, headers)
        assert got == status and word in text, (headers, got, text)
        assert b"/tmp" not in text and b"gff2rdf-upload" not in text
    status, _, body = client.request("GET", target, headers={"Accept": "application/n-triples"})
    assert status == 200 and body == good  # the good first part of the last case is not in


def test_post_to_the_store_creates_graphs_or_fills_the_dataset(client: Client) -> None:
    client.reset()
    status, headers, _ = client.request("POST", "/store", b"<http://a/> <http://b/> <c> .",
                                        {"Content-Type": "text/turtle"})
    assert status == 201
    location = headers["location"]
    got = client.request("GET", urllib.parse.urlsplit(location).path,
                         headers={"Accept": "application/n-triples"})[2]
    assert got == f"<http://a/> <http://b/> <{location[:location.rindex('/')]}/c> .\n".encode()
    status, headers, _ = client.request(
        "POST", "/store", b"<http://a/> <http://b/> <http://c/> <http://g/> .",
        {"Content-Type": "application/n-quads"})
    assert status == 204 and "location" not in headers
    assert client.request("GET", "/store?graph=http%3A%2F%2Fg%2F")[0] == 200
    assert client.request("PUT", "/store", b"", {"Content-Type": "text/turtle"})[0] == 400
    assert client.request("DELETE", "/store")[0] == 400
