"""The OpenAPI document of docs/openapi.yaml, read once, and how answers are held to it."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

OPENAPI_PATH = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
# Every "#/..." reference is made absolute against this, so any schema taken out of the
# document still resolves its references through the registry.
DOCUMENT_URI = "urn:stockdesk:openapi"
COMBINATORS = ("oneOf", "anyOf")


def _absolute_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: DOCUMENT_URI + value
            if key == "$ref" and isinstance(value, str) and value.startswith("#")
            else _absolute_refs(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_absolute_refs(item) for item in node]
    return node


def _free_form(schema: dict[str, Any]) -> bool:
    """An object schema that names no fields, so any key is documented (`details`)."""
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    return (
        "object" in types
        and "properties" not in schema
        and "additionalProperties" not in schema
    )


class OpenApiDocument:
    """docs/openapi.yaml with the look-ups the contract tests need."""

    def __init__(self, path: Path) -> None:
        self.raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        self.document = _absolute_refs(copy.deepcopy(self.raw))
        resource = Resource.from_contents(
            self.document, default_specification=DRAFT202012
        )
        self.registry: Registry = Registry().with_resource(DOCUMENT_URI, resource)

    # --- walking the document ---------------------------------------------------------

    def deref(self, node: dict[str, Any]) -> dict[str, Any]:
        """Follow $ref (to a response, header or schema) until a node without one."""
        while "$ref" in node:
            pointer = node["$ref"].removeprefix(DOCUMENT_URI).removeprefix("#/")
            node = self.document
            for part in pointer.split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    @property
    def paths(self) -> dict[str, dict[str, Any]]:
        return self.document["paths"]

    def methods(self, path: str) -> set[str]:
        return {
            method.upper()
            for method in self.paths[path]
            if method in {"get", "post", "put", "patch", "delete", "head", "options"}
        }

    def response(self, path: str, method: str, status: int) -> dict[str, Any]:
        operation = self.paths[path].get(method.lower())
        if operation is None:
            # A method the path does not list: the 405 its operations document.
            assert status == 405, f"{method} {path} answered {status}, not 405"
            operation = self.paths[path][min(self.methods(path)).lower()]
        responses = operation["responses"]
        assert str(status) in responses, (
            f"{method} {path} answered {status}, which docs/openapi.yaml does not list"
        )
        return self.deref(responses[str(status)])

    # --- validating ------------------------------------------------------------------

    def validator(self, schema: dict[str, Any]) -> Draft202012Validator:
        return Draft202012Validator(
            schema,
            registry=self.registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )

    def template(self, path: str) -> str:
        """The documented path a request path is an instance of."""
        for template in self.paths:
            pattern = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template))
            if re.fullmatch(pattern, path):
                return template
        raise AssertionError(f"{path} is no documented path")

    def check_response(self, response: Any) -> Any:
        """Assert a Django test response is what the document says; return its body."""
        method = response.wsgi_request.method
        path = self.template(response.wsgi_request.path)
        documented = self.response(path, method, response.status_code)
        content_type = response["Content-Type"].split(";")[0].strip()
        content = documented.get("content", {})
        assert content_type in content, (
            f"{method} {path} {response.status_code} answered {content_type}; "
            f"documented: {sorted(content)}"
        )
        for name, header in documented.get("headers", {}).items():
            header = self.deref(header)
            if header.get("required"):
                assert response.has_header(name), f"{name} header missing"
            if response.has_header(name):
                value: Any = response[name]
                if header["schema"].get("type") == "integer":
                    value = int(value)
                self.validator(header["schema"]).validate(value)
        if content_type != "application/json":
            return response.content
        body = json.loads(response.content)
        schema = content[content_type]["schema"]
        self.validator(schema).validate(body)
        # One line per field, not per row of a list.
        undocumented = sorted(
            {
                re.sub(r"\[\d+\]", "[]", at)
                for at in self.undocumented_fields(body, [schema])
            }
        )
        assert not undocumented, (
            f"{method} {path} {response.status_code} answers fields docs/openapi.yaml "
            f"does not describe: {undocumented}"
        )
        return body

    def undocumented_fields(
        self, instance: Any, schemas: list[dict[str, Any]], at: str = "$"
    ) -> list[str]:
        """Paths of the object keys in instance that no schema applying to it names.

        The document leaves objects open (adding a field breaks no client), so this is
        how a test notices a field that was added to an answer but not to the document.
        """
        applying = [
            part for schema in schemas for part in self._applying(instance, schema)
        ]
        found: list[str] = []
        if isinstance(instance, dict):
            free_form = any(map(_free_form, applying))
            for key, value in instance.items():
                below = [
                    s["properties"][key]
                    for s in applying
                    if key in s.get("properties", {})
                ]
                below += [
                    s["additionalProperties"]
                    for s in applying
                    if isinstance(s.get("additionalProperties"), dict)
                ]
                if below:
                    found += self.undocumented_fields(value, below, f"{at}.{key}")
                elif not free_form:
                    found.append(f"{at}.{key}")
        elif isinstance(instance, list):
            items = [s["items"] for s in applying if isinstance(s.get("items"), dict)]
            for index, value in enumerate(instance):
                found += self.undocumented_fields(value, items, f"{at}[{index}]")
        return found

    def _applying(
        self, instance: Any, schema: dict[str, Any]
    ) -> Iterator[dict[str, Any]]:
        """The schema, its allOf parts and the oneOf/anyOf branches instance matches."""
        schema = self.deref(schema)
        yield schema
        for part in schema.get("allOf", []):
            yield from self._applying(instance, part)
        for keyword in COMBINATORS:
            for branch in schema.get(keyword, []):
                if self.validator(branch).is_valid(instance):
                    yield from self._applying(instance, branch)


@pytest.fixture(scope="session")
def openapi() -> OpenApiDocument:
    return OpenApiDocument(OPENAPI_PATH)
