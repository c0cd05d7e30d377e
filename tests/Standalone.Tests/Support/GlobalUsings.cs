global using NUnit.Framework;
global using Standalone;
