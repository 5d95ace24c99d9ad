// Command ccoin is the single ccoin binary: node, registry, wallet and tools.
package main
