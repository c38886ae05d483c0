# syntax=docker/dockerfile:1
# The one sky-mesh image. Every service runs from it; --services picks the role (see deploy/):
#   docker build -t sky-mesh:dev .
#   docker run --rm -p 7100:7100 -p 7101:7101 sky-mesh:dev --services all --bind 0.0.0.0

# Build on the builder's own platform and publish for the target's architecture (amd64 or arm64).
FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG TARGETARCH
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY protos/ protos/
COPY services/ services/
RUN --mount=type=cache,id=nuget,target=/root/.nuget/packages \
    dotnet publish services/Sky.Host/Sky.Host.csproj -c Release -a "$TARGETARCH" --self-contained false \
      -p:UseAppHost=false -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
# Kestrel listens only where --grpc-port and --http-port say; drop the base image's default port 8080.
ENV ASPNETCORE_HTTP_PORTS= \
    SKY_STATE_DIR=/tmp/sky
# The image's non-root "app" user (uid 1654), numeric so Kubernetes can check runAsNonRoot.
USER $APP_UID
EXPOSE 7100 7101
ENTRYPOINT ["dotnet", "sky-mesh.dll"]
CMD ["--services", "all", "--bind", "0.0.0.0"]
