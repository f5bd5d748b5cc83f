"""The namespaces and the few terms that gff2rdf's modules write or read, defined once.

Plain IRI strings (no angle brackets). The predicates and classes of the genome data come
from the LinkML schema (``gff2rdf.mapping.schema``), not from here; this module holds the standard
vocabularies around them and gff2rdf's own namespaces.

Example:
    >>> RDF_TYPE
    'http://www.w3.org/1999/02/22-rdf-syntax-ns#type'
    >>> f"<{XSD}integer>"
    '<http://www.w3.org/2001/XMLSchema#integer>'
"""

from __future__ import annotations

__all__ = [
    "DCAT", "DCTERMS", "FALDO", "G2R", "G2RS", "OBO", "OIO", "OWL", "PAV", "PROV", "RDF", "RDFS",
    "RDF_TYPE", "SD", "SH", "SO", "SUBCLASS_OF", "VOID", "W3C_FORMATS", "XSD", "XSD_DATETIME",
    "XSD_STRING",
]

# W3C
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
OWL = "http://www.w3.org/2002/07/owl#"
SH = "http://www.w3.org/ns/shacl#"
DCAT = "http://www.w3.org/ns/dcat#"
PROV = "http://www.w3.org/ns/prov#"
SD = "http://www.w3.org/ns/sparql-service-description#"
W3C_FORMATS = "http://www.w3.org/ns/formats/"

# others
DCTERMS = "http://purl.org/dc/terms/"
PAV = "http://purl.org/pav/"
VOID = "http://rdfs.org/ns/void#"
FALDO = "http://biohackathon.org/resource/faldo#"
OBO = "http://purl.obolibrary.org/obo/"
OIO = "http://www.geneontology.org/formats/oboInOwl#"

# gff2rdf's own vocabulary (ontology/gff2rdf.yaml, ontology/store.yaml) and shapes (shapes/)
G2R = "https://w3id.org/gff2rdf/vocab#"
G2RS = "https://w3id.org/gff2rdf/shapes#"
SO = f"{OBO}so#"  # SO's own relations (so:part_of ...)

# terms
RDF_TYPE = f"{RDF}type"
SUBCLASS_OF = f"{RDFS}subClassOf"
XSD_STRING = f"{XSD}string"
XSD_DATETIME = f"{XSD}dateTime"
