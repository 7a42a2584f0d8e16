//! The four room routes, `/room/{license}`, `/room/{license}/{role_hash}`,
//! `/room/{license}/join` and `/room/{license}/calendar.ics`, matched by hand.
//!
//! Nearly all traffic is here. The framework's router tries each route's regular
//! expression in turn (a role link used to cost four of them, about a sixth of its
//! instructions); one `/room` scope takes every path under it instead, and
//! [`RoomRoute::parse`] (proved to agree with the router) picks the handler with a prefix
//! check and a split. Methods are checked as the framework checks them: a method a route
//! does not take gets 405 with the route's `Allow` list, and a path that is no room route
//! gets the branded 404 of every unknown path.

use std::rc::Rc;

use actix_web::{
    Error, HttpResponse, Route, Scope,
    dev::{Service, ServiceFactory, ServiceRequest, ServiceResponse, fn_factory, fn_service},
    http::{Method, header::Allow},
    web,
};

use super::{
    error::not_found,
    handlers::{calendar, join, room},
    middleware::catch_panic::catching,
};
use crate::visit::room_route::RoomRoute;

/// The `/room` scope: every room route.
pub fn room_routes() -> Scope {
    web::scope("/room").default_service(fn_factory(|| async {
        let handlers = Rc::new(Handlers {
            page: handler(web::route().to(room::room_page)).await?,
            join: handler(web::route().to(join::join)).await?,
            calendar: handler(web::route().to(calendar::attendee_calendar)).await?,
            not_found: handler(web::route().to(not_found)).await?,
        });
        Ok::<_, ()>(fn_service(move |req| handlers.clone().answer(req)))
    }))
}

/// A route's handler, ready to be called.
type Handler = <Route as ServiceFactory<ServiceRequest>>::Service;

async fn handler(route: Route) -> Result<Handler, ()> {
    route.new_service(()).await
}

const GET_OR_HEAD: &[Method] = &[Method::GET, Method::HEAD];
const POST: &[Method] = &[Method::POST];

/// The handlers of one worker.
struct Handlers {
    page: Handler,
    join: Handler,
    calendar: Handler,
    not_found: Handler,
}

impl Handlers {
    async fn answer(self: Rc<Self>, req: ServiceRequest) -> Result<ServiceResponse, Error> {
        let (handler, methods) = match RoomRoute::parse(req.path()) {
            Some(RoomRoute::Attendee { .. } | RoomRoute::Role { .. }) => (&self.page, GET_OR_HEAD),
            Some(RoomRoute::Join { .. }) => (&self.join, POST),
            Some(RoomRoute::Calendar { .. }) => (&self.calendar, GET_OR_HEAD),
            None => return self.not_found.call(req).await,
        };
        if !methods.contains(req.method()) {
            let res = HttpResponse::MethodNotAllowed()
                .insert_header(Allow(methods.to_vec()))
                .finish();
            return Ok(req.into_response(res));
        }
        let request = req.request().clone();
        catching(request, handler.call(req)).await
    }
}
